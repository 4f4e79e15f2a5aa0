@testable import AMQPClient
import Testing

/// Broker addresses as `amqp.url` gives them: one URL, or the nodes of a cluster separated by commas.
@Suite("AMQP endpoints")
struct AMQPEndpointTests {
    @Test("a list of URLs is the nodes of a cluster, in order; spaces and empty entries are ignored")
    func clusterList() throws {
        let endpoints = try AMQPEndpoint.list("amqp://u:p%40ss@node1:5681/, amqp://u:p@node2:5682/vh,,amqp://node3")
        #expect(endpoints.map(\.host) == ["node1", "node2", "node3"])
        #expect(endpoints.map(\.port) == [5681, 5682, 5672])
        #expect(endpoints[0].password == "p@ss" && endpoints[1].vhost == "vh" && endpoints[2].user == "guest")
        #expect(endpoints.allSatisfy { !$0.description.contains("p@ss") && !$0.description.contains(":p@") }, "no password in logs")
    }

    @Test("no URL, or one that is not amqp://, is refused naming why")
    func refused() {
        #expect(throws: AMQPError.self) { try AMQPEndpoint.list(" , ") }
        #expect(throws: AMQPError.self) { try AMQPEndpoint.list("amqp://a:5672/,http://b/") }
    }
}
