#!/usr/bin/python3
"""One slixmpp (Debian python3-slixmpp) client for pep.test.ts.

Logs in over STARTTLS (required, certificate verified against --cafile) with slixmpp's own
XEP-0115 (entity capabilities), XEP-0163 (PEP) and XEP-0172 (user nickname) plugins: the nick
plugin registers the interest `http://jabber.org/protocol/nick+notify`, the caps plugin puts
the resulting `ver` in the initial presence and answers the server's disco#info query on
`node#ver`. Reports JSON lines on stdout:

  {"event": "session_start", "jid": ..., "ver": ...}    (after the initial presence)
  {"event": "nick", "from": ..., "nick": ..., "id": ..., "delayed": bool}   (a nick PEP event)
  {"event": "published", "id": ...}
  {"event": "items", "items": [{"id": ..., "nick": ...}]}
  {"event": "iq_error", "condition": ...}
  {"event": "stream_error" | "failed_auth" | "disconnected" | "timeout", ...}

Commands (JSON lines on stdin):
  {"cmd": "publish_nick", "nick": ...}
  {"cmd": "get_nick_items", "jid": ...}
  {"cmd": "quit"}          (also on EOF)

Run with /usr/bin/python3: Debian's packages are not importable from other interpreters.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slixmpp.exceptions import IqError, IqTimeout  # noqa: E402
from slixmpp_common import InteropClient, arguments, report, run, withhold_channel_binding  # noqa: E402

NICK = "http://jabber.org/protocol/nick"


def nick_of(item):
    """The text of the item's <nick/> (read from the XML: the nick plugin only decorates event items)."""
    el = item.xml.find("{%s}nick" % NICK)
    return None if el is None else (el.text or "")


class PepClient(InteropClient):
    def __init__(self, args):
        super().__init__(
            args.jid, args.password, "SCRAM-SHA-256", (args.host, args.port), args.cafile,
            plugins=("xep_0030", "xep_0004", "xep_0060", "xep_0115", "xep_0163", "xep_0172"),
        )
        withhold_channel_binding(self)
        self.add_event_handler("session_start", self.on_session_start)
        self.add_event_handler("user_nick_publish", self.on_nick)
        self.add_event_handler("failed_auth", lambda f: report("failed_auth", condition=f["condition"]))
        self.add_event_handler("stream_error", lambda e: report("stream_error", condition=e["condition"], text=e["text"]))

    def on_nick(self, msg):
        item = msg["pubsub_event"]["items"]["item"]
        report("nick", **{
            "from": str(msg["from"]),
            "nick": nick_of(item),
            "id": item["id"],
            "delayed": msg.xml.find("{urn:xmpp:delay}delay") is not None,
        })

    async def on_session_start(self, _event):
        await self.get_roster()
        # The nick plugin's add_interest updates caps in the background; wait for the ver so
        # the initial presence carries it (the caps filter adds <c/> to outgoing presence).
        await self["xep_0115"].update_caps(broadcast=False)
        ver = await self["xep_0115"].get_verstring(self.boundjid.full)
        self.send_presence()
        report("session_start", jid=str(self.boundjid), ver=ver)

    async def on_command(self, cmd):
        try:
            if cmd.get("cmd") == "publish_nick":
                iq = await self["xep_0172"].publish_nick(cmd["nick"], timeout=5)
                report("published", id=iq["pubsub"]["publish"]["item"]["id"])
            elif cmd.get("cmd") == "get_nick_items":
                iq = await self["xep_0060"].get_items(cmd["jid"], NICK, timeout=5)
                items = [{"id": i["id"], "nick": nick_of(i)} for i in iq["pubsub"]["items"]]
                report("items", items=items)
        except IqError as e:
            report("iq_error", condition=e.iq["error"]["condition"])
        except IqTimeout:
            report("iq_timeout")


if __name__ == "__main__":
    args = arguments(timeout=20.0).parse_args()
    run(args, lambda: PepClient(args))
