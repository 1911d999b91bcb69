#!/usr/bin/python3
"""One slixmpp (Debian python3-slixmpp) client for muc.test.ts, with slixmpp's own XEP-0045
plugin (join_muc_wait: occupants' presences, own presence, history, subject).

Logs in over STARTTLS (certificate verified against --cafile) and sends its initial presence.
Reports JSON lines on stdout:

  {"event": "session_start", "jid": ...}
  {"event": "joined", "nick": ..., "codes": [...], "occupants": [...], "subject": ...}
  {"event": "join_error", "condition": ...}
  {"event": "online" | "offline", "nick": ..., "codes": [...]}   (occupants' presences, own included)
  {"event": "unavailable", "nick": ..., "codes": [...]}           (any room's unavailable, own included)
  {"event": "message", "nick": ..., "body": ..., "delayed": bool}
  {"event": "subject", "nick": ..., "subject": ...}
  {"event": "stream_error" | "failed_auth" | "disconnected" | "timeout", ...}

Commands (JSON lines on stdin):
  {"cmd": "join", "room": ..., "nick": ...}
  {"cmd": "say", "room": ..., "body": ...}
  {"cmd": "subject", "room": ..., "subject": ...}
  {"cmd": "leave", "room": ..., "nick": ...}
  {"cmd": "quit"}          (also on EOF)

Run with /usr/bin/python3: Debian's packages are not importable from other interpreters.
"""
import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slixmpp.exceptions import PresenceError  # noqa: E402
from slixmpp.xmlstream.handler import Callback  # noqa: E402
from slixmpp.xmlstream.matcher import StanzaPath  # noqa: E402
from slixmpp_common import InteropClient, arguments, report, run, withhold_channel_binding  # noqa: E402


def codes_of(pres):
    return sorted(int(c) for c in pres["muc"]["status_codes"])


class MucClient(InteropClient):
    def __init__(self, args):
        super().__init__(
            args.jid, args.password, "SCRAM-SHA-256", (args.host, args.port), args.cafile,
            plugins=("xep_0030", "xep_0045", "xep_0203"),
        )
        withhold_channel_binding(self)
        self.add_event_handler("session_start", self.on_session_start)
        self.add_event_handler("groupchat_presence", self.on_presence)
        # The plugin forgets a room as soon as we leave it, before our own unavailable arrives,
        # and marks room JIDs ignore_updates (no presence_* events): a raw handler sees it.
        self.register_handler(Callback("muc unavailable", StanzaPath("presence@type=unavailable"), self.on_unavailable))
        self.add_event_handler("groupchat_message", self.on_message)
        self.add_event_handler("groupchat_subject", self.on_subject)
        self.add_event_handler("failed_auth", lambda f: report("failed_auth", condition=f["condition"]))
        self.add_event_handler("stream_error", lambda e: report("stream_error", condition=e["condition"], text=e["text"]))

    async def on_session_start(self, _event):
        self.send_presence()
        report("session_start", jid=str(self.boundjid))

    def on_presence(self, pres):
        event = "offline" if pres["type"] == "unavailable" else "online"
        report(event, nick=pres["from"].resource, codes=codes_of(pres))

    def on_unavailable(self, pres):
        if pres["from"].resource and pres.xml.find("{http://jabber.org/protocol/muc#user}x") is not None:
            report("unavailable", nick=pres["from"].resource, codes=codes_of(pres))

    def on_message(self, msg):
        if msg["type"] != "groupchat" or not msg["body"]:
            return
        delayed = msg.xml.find("{urn:xmpp:delay}delay") is not None
        report("message", nick=msg["from"].resource, body=msg["body"], delayed=delayed)

    def on_subject(self, msg):
        report("subject", nick=msg["from"].resource, subject=msg["subject"])

    async def on_command(self, cmd):
        c = cmd.get("cmd")
        if c == "join":
            try:
                # slixmpp 1.8 prints each message's delay while joining: keep stdout for JSON.
                stdout, sys.stdout = sys.stdout, sys.stderr
                try:
                    pres, subject, occupants, _history = await self["xep_0045"].join_muc_wait(cmd["room"], cmd["nick"], maxstanzas=0, timeout=5)
                finally:
                    sys.stdout = stdout
                report("joined", nick=pres["from"].resource, codes=codes_of(pres),
                       occupants=sorted(p["from"].resource for p in occupants), subject=subject["subject"])
            except PresenceError as e:
                report("join_error", condition=e.condition)
            except asyncio.TimeoutError:
                report("join_timeout")
        elif c == "say":
            self.send_message(mto=cmd["room"], mbody=cmd["body"], mtype="groupchat")
        elif c == "subject":
            self["xep_0045"].set_subject(cmd["room"], cmd["subject"])
        elif c == "leave":
            self["xep_0045"].leave_muc(cmd["room"], cmd["nick"])


if __name__ == "__main__":
    args = arguments(timeout=25.0).parse_args()
    run(args, lambda: MucClient(args))
