import APIGateway
