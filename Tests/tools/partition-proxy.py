#!/usr/bin/env python3
"""A TCP proxy that can cut its connections off without closing them: a network partition.

Usage: partition-proxy.py LISTEN_PORT TARGET_HOST TARGET_PORT

Forwards every connection made to 127.0.0.1:LISTEN_PORT to TARGET_HOST:TARGET_PORT. SIGUSR1 cuts
every connection off (nothing is forwarded either way, the sockets stay open, as when a network
drops packets); SIGUSR2 heals the partition (what waited is delivered). SIGTERM stops the proxy.
The end-to-end tests use it to partition a worker from RabbitMQ.
"""
import asyncio
import signal
import sys


async def main(listen_port: int, host: str, port: int) -> None:
    open_ = asyncio.Event()
    open_.set()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                await open_.wait()  # partitioned: hold what arrived until healed
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(host, port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))

    loop = asyncio.get_running_loop()
    # A parent may have started it with these signals blocked (they would never arrive).
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM})
    loop.add_signal_handler(signal.SIGUSR1, open_.clear)
    loop.add_signal_handler(signal.SIGUSR2, open_.set)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    print(f"partition-proxy: 127.0.0.1:{listen_port} -> {host}:{port}", flush=True)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3])))
