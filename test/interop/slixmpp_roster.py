#!/usr/bin/python3
"""One slixmpp (Debian python3-slixmpp) client for roster-presence.test.ts.

Logs in over STARTTLS (required, certificate verified against --cafile), fetches the roster,
sends initial presence, and then only does what it is told: automatic subscription handling is
off, so the test drives the handshake. Reports JSON lines on stdout:

  {"event": "session_start", "jid": ...}
  {"event": "subscribe" | "subscribed" | "unsubscribe" | "unsubscribed", "from": ...}
  {"event": "available", "from": ..., "show": ..., "status": ...}
  {"event": "unavailable", "from": ...}
  {"event": "roster", "items": {jid: {"subscription": ..., "pending_out": bool}}}  (after each roster change)
  {"event": "stream_error" | "failed_auth" | "disconnected" | "timeout", ...}

Commands (JSON lines on stdin):
  {"cmd": "presence", "to": ..., "type": "subscribe" | "subscribed" | ...}
  {"cmd": "roster"}        report the client's roster now
  {"cmd": "quit"}          (also on EOF)

Run with /usr/bin/python3: Debian's packages are not importable from other interpreters.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slixmpp_common import InteropClient, arguments, report, run, withhold_channel_binding  # noqa: E402


class RosterClient(InteropClient):
    def __init__(self, args):
        super().__init__(args.jid, args.password, "SCRAM-SHA-256", (args.host, args.port), args.cafile)
        # No SCRAM channel-binding data: the GS2 flag is 'n' (see slixmpp_common.py).
        withhold_channel_binding(self)
        # The test answers subscription requests itself.
        # None = leave requests to us (False would auto-deny them).
        self.roster.auto_authorize = None
        self.roster.auto_subscribe = False
        self.add_event_handler("session_start", self.on_session_start)
        for kind in ("subscribe", "subscribed", "unsubscribe", "unsubscribed"):
            self.add_event_handler("presence_" + kind, self.reporter(kind))
        self.add_event_handler("presence_available", self.on_available)
        self.add_event_handler("presence_unavailable", lambda p: report("unavailable", **{"from": str(p["from"])}))
        self.add_event_handler("roster_update", lambda _iq: self.report_roster())
        self.add_event_handler("failed_auth", lambda f: report("failed_auth", condition=f["condition"]))
        self.add_event_handler("stream_error", lambda e: report("stream_error", condition=e["condition"], text=e["text"]))

    def reporter(self, kind):
        def handler(presence):
            report(kind, **{"from": str(presence["from"])})
        return handler

    def on_available(self, presence):
        report("available", **{"from": str(presence["from"]), "show": presence["show"], "status": presence["status"]})

    def report_roster(self):
        roster = self.client_roster
        items = {}
        for jid in roster:
            item = roster[jid]
            items[str(jid)] = {"subscription": item["subscription"], "pending_out": bool(item["pending_out"])}
        report("roster", items=items)

    async def on_session_start(self, _event):
        await self.get_roster()
        self.send_presence()
        report("session_start", jid=str(self.boundjid))
        self.report_roster()

    async def on_command(self, cmd):
        if cmd.get("cmd") == "presence":
            self.send_presence(pto=cmd["to"], ptype=cmd["type"])
            report("sent", to=cmd["to"], type=cmd["type"])
        elif cmd.get("cmd") == "roster":
            self.report_roster()


if __name__ == "__main__":
    args = arguments(timeout=20.0).parse_args()
    run(args, lambda: RosterClient(args))
