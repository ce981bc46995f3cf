"""A loopback SMTP server that keeps every message it accepts, one JSON line each.

    python3 smtp_sink.py PORT OUT.jsonl CONTROL_FILE

No TLS, no authentication. While CONTROL_FILE contains `hold`, the answer to the end of a
message's DATA is withheld (the sending job stays mid-run); a message counts as received only
once it has been answered 250, so a sender killed while held leaves nothing behind (SMTP
delivers at least once: a sender killed after the 250 and before it noted the success sends
again, with the same Message-ID).
"""

import asyncio
import json
import sys
from pathlib import Path


async def held(control: Path, reader: asyncio.StreamReader) -> bool:
    """Waits while CONTROL_FILE says `hold`; false if the sender went away meanwhile (a
    client sends nothing while it waits for the reply, so a read only ever sees the end)."""
    holding = True
    while holding:
        holding = control.exists() and control.read_text().strip() == "hold"
        try:
            if await asyncio.wait_for(reader.read(1), 0.05) == b"":
                return False
        except asyncio.TimeoutError:
            pass
    return True


async def session(reader, writer, out: Path, control: Path) -> None:
    def send(line: str) -> None:
        writer.write((line + "\r\n").encode())

    send("220 sink ESMTP")
    sender, recipients = None, []
    try:
        while line := await reader.readline():
            command = line.decode("utf-8", "replace").strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                send("250-sink" if verb == "EHLO" else "250 sink")
                if verb == "EHLO":
                    send("250-8BITMIME")
                    send("250 SMTPUTF8")
            elif verb == "MAIL":
                sender, recipients = command[10:].split()[0].strip("<>"), []
                send("250 OK")
            elif verb == "RCPT":
                recipients.append(command[8:].split()[0].strip("<>"))
                send("250 OK")
            elif verb == "DATA":
                send("354 go ahead")
                await writer.drain()
                data = bytearray()
                while (chunk := await reader.readline()) not in (b".\r\n", b".\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                if not await held(control, reader):
                    break
                send("250 OK queued")
                await writer.drain()
                record = {"from": sender, "to": recipients, "data": data.decode("utf-8", "replace")}
                with out.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(record, ensure_ascii=False) + "\n")
                continue
            elif verb == "RSET":
                sender, recipients = None, []
                send("250 OK")
            elif verb == "NOOP":
                send("250 OK")
            elif verb == "QUIT":
                send("221 bye")
                await writer.drain()
                break
            else:
                send("502 not implemented")
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main() -> None:
    port, out, control = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    server = await asyncio.start_server(
        lambda r, w: session(r, w, out, control), "127.0.0.1", port
    )
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
