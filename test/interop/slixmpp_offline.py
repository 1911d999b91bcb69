#!/usr/bin/python3
"""A slixmpp (Debian python3-slixmpp) client for offline.test.ts: logs in over STARTTLS
(certificate verified against --cafile), sends its initial presence, and reports every message
with its XEP-0203 delay as JSON lines on stdout:

  {"event": "session_start", "jid": ...}
  {"event": "message", "from": ..., "type": ..., "id": ..., "body": ..., "delay_from": ..., "delay_stamp": ...}
  {"event": "disconnected", "reason": ...}
  {"event": "timeout"}                      (the hard timeout fired)

Commands on stdin (JSON lines): {"cmd": "quit"} (also on EOF).
Run with /usr/bin/python3: Debian's packages are not importable from other interpreters.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slixmpp_common import InteropClient, arguments, report, run  # noqa: E402


class OfflineClient(InteropClient):
    def __init__(self, args):
        super().__init__(args.jid, args.password, args.mechanism, (args.host, args.port), args.cafile, plugins=["xep_0203"])  # delayed delivery
        self.add_event_handler("session_start", self.on_session_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("failed_all_auth", lambda _: report("failed_all_auth"))
        self.add_event_handler("stream_error", lambda err: report("stream_error", condition=err["condition"]))

    async def on_session_start(self, _event):
        report("session_start", jid=str(self.boundjid))
        # Initial presence (priority 0): the server delivers stored messages now (XEP-0160).
        self.send_presence()

    def on_message(self, msg):
        delay = msg["delay"]
        stamp = delay["stamp"]
        report(
            "message",
            **{
                "from": str(msg["from"]),
                "type": msg["type"],
                "id": msg["id"],
                "body": msg["body"],
                "delay_from": str(delay["from"]) if delay["from"] else None,
                "delay_stamp": stamp.isoformat() if stamp else None,
            },
        )


if __name__ == "__main__":
    parser = arguments()
    parser.add_argument("--mechanism", default="SCRAM-SHA-256")
    args = parser.parse_args()
    run(args, lambda: OfflineClient(args))
