#ifndef CONVEYOR_CRABBITMQ_SHIM_H
#define CONVEYOR_CRABBITMQ_SHIM_H

// rabbitmq-c 0.12+ moved its headers under rabbitmq-c/; Debian 12 ships 0.11 with them at the top.
#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/tcp_socket.h>
#else
#include <amqp.h>
#include <amqp_tcp_socket.h>
#endif
#include <poll.h>
#include <sys/eventfd.h>

/// `amqp_login` is variadic and cannot be called from Swift: this wrapper fixes the PLAIN mechanism.
static inline amqp_rpc_reply_t conveyor_amqp_login_plain(amqp_connection_state_t state, const char *vhost,
                                                         int channel_max, int frame_max, int heartbeat,
                                                         const char *user, const char *password) {
    return amqp_login(state, vhost, channel_max, frame_max, heartbeat, AMQP_SASL_METHOD_PLAIN, user, password);
}

#endif
