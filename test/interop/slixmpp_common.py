"""What every slixmpp (Debian python3-slixmpp) interop client shares: the command line, the
JSON-lines protocol with the test (reports on stdout, commands on stdin), the connection
(STARTTLS with the certificate verified against --cafile, or plain TCP when there is none),
the hard timeout and the exit.

Each script imports it from its own folder (sys.path.insert(0, os.path.dirname(__file__))), so
it works from any cwd. Run with /usr/bin/python3: Debian's packages are not importable from
other interpreters.
"""
import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

import slixmpp


def report(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def arguments(*, cafile=True, timeout=15.0):
    """The options every client takes; a script adds its own before parse_args()."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--jid", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    if cafile:
        parser.add_argument("--cafile", required=True)
    parser.add_argument("--timeout", type=float, default=timeout)
    return parser


def withhold_channel_binding(xmpp):
    # By default, on TLS slixmpp hands SCRAM its tls-unique data even for a non-PLUS
    # mechanism and so sends the GS2 flag 'y' ("I could bind, you can't", RFC 5802 §6).
    # Without the data it sends 'n': a client that does not do channel binding at all.
    mechanisms = xmpp["feature_mechanisms"]
    default_credentials = mechanisms.sasl_callback

    def credentials(required, optional):
        values = default_credentials(required, optional)
        values.pop("channel_binding", None)
        return values

    mechanisms.sasl_callback = credentials


class InteropClient(slixmpp.ClientXMPP):
    """A client that reports how its connection ends and sets `done` when it has."""

    def __init__(self, jid, password, sasl_mech, address, cafile=None, plugins=()):
        # sasl_mech limits SASL to this one mechanism (feature_mechanisms.use_mech).
        super().__init__(jid, password, sasl_mech=sasl_mech)
        # Plugins first: xep_0198 disables SM on "disconnected" before our handler reconnects.
        for plugin in plugins:
            self.register_plugin(plugin)
        self.address = address
        self.starttls = cafile is not None
        if self.starttls:
            # Trust exactly the test's self-signed certificate; hostname checking stays on.
            self.ca_certs = Path(cafile)
        self.done = asyncio.Event()
        self.add_event_handler("ssl_invalid_chain", self.on_invalid_chain)
        self.add_event_handler("disconnected", self.on_disconnected)
        self.add_event_handler("connection_failed", self.on_connection_failed)

    def open(self):
        if self.starttls:
            # force_starttls: abort unless the server offers STARTTLS; never fall back to plain text.
            self.connect(self.address, use_ssl=False, force_starttls=True, disable_starttls=False)
        else:
            self.connect(self.address, use_ssl=False, force_starttls=False, disable_starttls=True)

    async def on_command(self, cmd):
        """One command from stdin other than quit; a script overrides it to take commands."""

    def send_chat(self, cmd):
        msg = self.make_message(mto=cmd["to"], mbody=cmd["body"], mtype="chat")
        if cmd.get("id"):
            msg["id"] = cmd["id"]
        msg.send()

    def on_invalid_chain(self, exc):
        report("ssl_invalid_chain", error=str(exc))
        self.abort()

    def on_connection_failed(self, exc):
        # slixmpp would retry forever; one attempt is the test's business.
        report("connection_failed", error=str(exc))
        self.done.set()

    def on_disconnected(self, reason):
        report("disconnected", reason=str(reason))
        self.done.set()


async def read_commands(xmpp):
    """Await xmpp.on_command(cmd) for each JSON line on stdin until {"cmd": "quit"} or EOF, then disconnect."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            break
        line = line.strip()
        if not line:
            continue
        cmd = json.loads(line)
        if cmd.get("cmd") == "quit":
            break
        await xmpp.on_command(cmd)
    xmpp.disconnect()


def run(args, make_client):
    """Make the client (inside the event loop), connect, obey stdin until the client is done (or the hard timeout), report "exit" and leave."""

    async def main():
        def hard_timeout():
            report("timeout")
            os._exit(3)

        asyncio.get_running_loop().call_later(args.timeout, hard_timeout)
        xmpp = make_client()
        xmpp.open()
        commands = asyncio.ensure_future(read_commands(xmpp))
        await xmpp.done.wait()
        commands.cancel()
        report("exit")

    asyncio.run(main())
    # The stdin pipe reader may keep a thread or fd busy; leave now that we reported.
    sys.stdout.flush()
    os._exit(0)
