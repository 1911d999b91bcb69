#!/usr/bin/python3
"""One slixmpp (Debian python3-slixmpp) client for http-upload.test.ts.

Logs in over STARTTLS (certificate verified against --cafile) and uploads a file with
slixmpp's own XEP-0363 plugin (the slot request, the PUT with aiohttp) after finding the
service the way the plugin does (see find_service), then downloads the GET URL with aiohttp. Reports JSON lines:

  {"event": "session_start", "jid": ...}
  {"event": "service", "jid": ..., "max_file_size": ...}
  {"event": "uploaded", "url": ...}
  {"event": "downloaded", "status": ..., "content_type": ..., "data": <base64>}
  {"event": "upload_error", "error": ...}
  {"event": "stream_error" | "failed_auth" | "disconnected" | "timeout", ...}

Commands (JSON lines on stdin):
  {"cmd": "upload", "name": ..., "data": <base64>, "content_type": ...}
  {"cmd": "quit"}          (also on EOF)

Run with /usr/bin/python3: Debian's packages are not importable from other interpreters.
"""
import base64
import io
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aiohttp import ClientSession  # noqa: E402
from slixmpp_common import InteropClient, arguments, report, run, withhold_channel_binding  # noqa: E402


class UploadClient(InteropClient):
    def __init__(self, args):
        super().__init__(
            args.jid, args.password, "SCRAM-SHA-256", (args.host, args.port), args.cafile,
            plugins=("xep_0030", "xep_0004", "xep_0128", "xep_0363"),
        )
        withhold_channel_binding(self)
        self.add_event_handler("session_start", self.on_session_start)
        self.add_event_handler("failed_auth", lambda f: report("failed_auth", condition=f["condition"]))
        self.add_event_handler("stream_error", lambda e: report("stream_error", condition=e["condition"], text=e["text"]))

    async def on_session_start(self, _event):
        report("session_start", jid=str(self.boundjid))

    async def find_service(self):
        """What xep_0363's find_upload_service does (disco#items of our domain, then disco#info
        of each item for store/file and the feature), one query after the other: its helper
        xep_0030.get_info_from_domain hands coroutines to asyncio.wait, which Python 3.11 refuses
        ("Passing coroutines is forbidden"). The plugin then skips its own discovery."""
        plugin = self["xep_0363"]
        items = await self["xep_0030"].get_items(jid=self.boundjid.domain, timeout=5)
        for jid, _node, _name in items["disco_items"]["items"]:
            info = await self["xep_0030"].get_info(jid=jid, timeout=5)
            identities = [(i[0], i[1]) for i in info["disco_info"]["identities"]]
            if ("store", "file") in identities and "urn:xmpp:http:upload:0" in info["disco_info"]["features"]:
                plugin.upload_service = info["from"]
                for form in info["disco_info"].iterables:
                    values = form["values"]
                    if values["FORM_TYPE"] == ["urn:xmpp:http:upload:0"]:
                        plugin.max_file_size = int(values["max-file-size"])
                report("service", jid=str(info["from"]), max_file_size=plugin.max_file_size)
                return
        raise RuntimeError("no upload service among the server's items")

    async def on_command(self, cmd):
        if cmd.get("cmd") != "upload":
            return
        data = base64.b64decode(cmd["data"])
        try:
            await self.find_service()
            url = await self["xep_0363"].upload_file(
                cmd["name"], size=len(data), content_type=cmd.get("content_type"),
                input_file=io.BytesIO(data), timeout=5,
            )
        except Exception as e:  # noqa: BLE001 - every failure is the test's business
            report("upload_error", error="%s: %s" % (type(e).__name__, e))
            return
        report("uploaded", url=url)
        async with ClientSession() as session:
            async with session.get(url) as response:
                body = await response.read()
                report("downloaded", status=response.status, content_type=response.headers.get("Content-Type"),
                       data=base64.b64encode(body).decode("ascii"))


if __name__ == "__main__":
    args = arguments(timeout=20.0).parse_args()
    run(args, lambda: UploadClient(args))
