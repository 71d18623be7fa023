"""Drives a real third-party server with a real third-party client, for tests/interop.rs.

    python driver.py lsp  --workspace DIR --out RESULT.json -- CMD...
    python driver.py mcp  --workspace DIR --out RESULT.json -- CMD...
    python driver.py dap  --workspace DIR --out RESULT.json -- CMD...

CMD is the server command: the server itself for a direct run, or `rpctap --record X --
server...` for a run through rpctap. The driver runs one scripted session and writes what
the server answered, normalised so that a direct run and a run through rpctap compare
equal: process ids, thread ids, variable references and other per-run values are dropped;
paths are made relative to the workspace.

The LSP client is pygls's `LanguageClient`, the MCP client the MCP Python SDK's stdio
client. No Python DAP client library exists to drive debugpy, so the DAP session uses a
small Content-Length client written here, as an IDE would.

Every wait is bounded (TIMEOUT): a hung server fails the test instead of hanging it.
"""

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path

TIMEOUT = float(os.environ.get("INTEROP_TIMEOUT", "60"))

SOURCE = '''import os
import sys


def greet(name):
    """Return a greeting for NAME."""
    return "hello " + name


class Counter:
    def __init__(self):
        self.count = 0

    def bump(self):
        self.count += 1
        return self.count


print(greet("rpctap"), os.pa
'''


def relative(value, workspace):
    """Replaces the workspace's path and URI in every string of VALUE."""
    text = json.dumps(value)
    uri = Path(workspace).resolve().as_uri()
    text = text.replace(uri, "WORKSPACE").replace(str(Path(workspace).resolve()), "WORKSPACE")
    return json.loads(text)


# --- LSP: pygls LanguageClient against a language server ------------------------------


async def run_lsp(cmd, workspace):
    from lsprotocol import types as t
    from pygls.lsp.client import LanguageClient

    client = LanguageClient("rpctap-interop", "1")
    # pylsp 1.15 announces a `notebookDocumentSync` that lsprotocol 2025's types reject,
    # and pygls then drops the whole initialize response. Take that one result as plain
    # JSON; everything else goes through pygls's typed API.
    typed = client.protocol.get_result_type
    client.protocol.get_result_type = lambda method: None if method == "initialize" else typed(method)
    diagnostics = asyncio.get_running_loop().create_future()
    path = Path(workspace) / "example.py"
    path.write_text(SOURCE)
    uri = path.resolve().as_uri()

    @client.feature(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params):
        if params.uri == uri and params.diagnostics and not diagnostics.done():
            diagnostics.set_result(params)

    def unstructure(value):
        return client.protocol._converter.unstructure(value)

    def plain(value):
        """pygls hands untyped results over as nested namedtuples: back to JSON."""
        if hasattr(value, "_asdict"):
            return {k: plain(v) for k, v in value._asdict().items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    await client.start_io(*cmd)
    init = await asyncio.wait_for(
        client.initialize_async(
            t.InitializeParams(
                process_id=None,
                root_uri=Path(workspace).resolve().as_uri(),
                capabilities=t.ClientCapabilities(
                    text_document=t.TextDocumentClientCapabilities(
                        hover=t.HoverClientCapabilities(
                            content_format=[t.MarkupKind.Markdown, t.MarkupKind.PlainText]
                        ),
                        document_symbol=t.DocumentSymbolClientCapabilities(
                            hierarchical_document_symbol_support=True
                        ),
                    )
                ),
            )
        ),
        TIMEOUT,
    )
    client.initialized(t.InitializedParams())
    client.text_document_did_open(
        t.DidOpenTextDocumentParams(
            text_document=t.TextDocumentItem(uri=uri, language_id="python", version=1, text=SOURCE)
        )
    )
    doc = t.TextDocumentIdentifier(uri=uri)
    # INTEROP_PAUSE_DIR (tests/interop_control.rs): say the document is open, so a test can
    # inject its own requests while the session goes on, and keep the session open until
    # the test is done (`go`). Nothing the client asks or gets changes.
    pause = os.environ.get("INTEROP_PAUSE_DIR")
    if pause:
        (Path(pause) / "opened").write_text(uri)
    hover = await asyncio.wait_for(
        client.text_document_hover_async(
            t.HoverParams(text_document=doc, position=t.Position(line=18, character=8))
        ),
        TIMEOUT,
    )
    completion = await asyncio.wait_for(
        client.text_document_completion_async(
            t.CompletionParams(text_document=doc, position=t.Position(line=18, character=28))
        ),
        TIMEOUT,
    )
    symbols = await asyncio.wait_for(
        client.text_document_document_symbol_async(t.DocumentSymbolParams(text_document=doc)),
        TIMEOUT,
    )
    published = await asyncio.wait_for(diagnostics, TIMEOUT)
    if pause:
        async def wait_go():
            while not (Path(pause) / "go").exists():
                await asyncio.sleep(0.02)
        await asyncio.wait_for(wait_go(), TIMEOUT)
    await asyncio.wait_for(client.shutdown_async(None), TIMEOUT)
    client.exit(None)
    await asyncio.wait_for(client.stop(), TIMEOUT)

    items = completion.items if hasattr(completion, "items") else completion
    return relative(
        {
            # pyright sends no serverInfo.
            "server": plain(getattr(init, "serverInfo", None)),
            "capabilities": plain(init.capabilities),
            "hover": unstructure(hover),
            "completion": sorted(item.label for item in items or []),
            "symbols": unstructure(symbols),
            "diagnostics": sorted(
                (d.range.start.line, d.range.start.character, d.source or "", d.message)
                for d in published.diagnostics
            ),
        },
        workspace,
    )


# --- MCP: the MCP Python SDK's stdio client -------------------------------------------


async def run_mcp(cmd, workspace):
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    def dump(model):
        return model.model_dump(mode="json", by_alias=True, exclude_none=True)

    params = StdioServerParameters(command=cmd[0], args=cmd[1:], cwd=workspace, env=dict(os.environ))
    async with stdio_client(params, errlog=sys.stderr) as (read, write):
        async with ClientSession(read, write, read_timeout_seconds=TIMEOUT) as session:
            init = await asyncio.wait_for(session.initialize(), TIMEOUT)
            tools = await asyncio.wait_for(session.list_tools(), TIMEOUT)
            echo = await asyncio.wait_for(
                session.call_tool("echo", {"message": "hello through rpctap"}), TIMEOUT
            )
            total = await asyncio.wait_for(session.call_tool("get-sum", {"a": 2, "b": 40}), TIMEOUT)
            resources = await asyncio.wait_for(session.list_resources(), TIMEOUT)
            first = resources.resources[0].uri if resources.resources else None
            content = await asyncio.wait_for(session.read_resource(first), TIMEOUT) if first else None
            prompts = await asyncio.wait_for(session.list_prompts(), TIMEOUT)
    return relative(
        {
            "server": dump(init.server_info),
            "protocol": init.protocol_version,
            "capabilities": dump(init.capabilities),
            "tools": sorted(tool.name for tool in tools.tools),
            "echo": dump(echo),
            "sum": dump(total),
            "resources": [dump(r) for r in resources.resources],
            "read": dump(content) if content else None,
            "prompts": [dump(p) for p in prompts.prompts],
        },
        workspace,
    )


# --- DAP: a minimal IDE driving a debug adapter ----------------------------------------

PROGRAM = """def add(a, b):
    total = a + b
    return total


print("sum", add(2, 40))
"""


class Dap:
    """A Content-Length DAP client over a child's stdio: requests, responses, events."""

    def __init__(self, proc):
        self.proc = proc
        self.seq = 0
        self.waiting = {}
        self.events = []
        self.event_seen = asyncio.Event()
        self.reader = asyncio.create_task(self.read_loop())

    async def read_loop(self):
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = await out.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            msg = json.loads(await out.readexactly(length))
            if msg["type"] == "response" and msg["request_seq"] in self.waiting:
                self.waiting.pop(msg["request_seq"]).set_result(msg)
            elif msg["type"] == "event":
                self.events.append(msg)
                self.event_seen.set()
            elif msg["type"] == "request":
                # Reverse requests (runInTerminal, startDebugging) are not used with
                # console=internalConsole; refuse any, as an IDE without them would.
                self.send({"type": "response", "request_seq": msg["seq"], "success": False,
                           "command": msg["command"], "message": "not supported"})

    def send(self, msg):
        self.seq += 1
        msg["seq"] = self.seq
        body = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return self.seq

    def request(self, command, arguments=None):
        fut = asyncio.get_running_loop().create_future()
        seq = self.send({"type": "request", "command": command, "arguments": arguments or {}})
        self.waiting[seq] = fut
        return fut

    async def event(self, name):
        async def wait():
            while True:
                for i, ev in enumerate(self.events):
                    if ev["event"] == name:
                        return self.events.pop(i)
                self.event_seen.clear()
                await self.event_seen.wait()

        return await asyncio.wait_for(wait(), TIMEOUT)


async def run_dap(cmd, workspace):
    program = Path(workspace) / "program.py"
    program.write_text(PROGRAM)
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=workspace
    )
    dap = Dap(proc)

    async def call(command, arguments=None):
        resp = await asyncio.wait_for(dap.request(command, arguments), TIMEOUT)
        if not resp["success"]:
            raise RuntimeError(f"{command} failed: {resp.get('message')}")
        return resp.get("body", {})

    init = await call("initialize", {
        "clientID": "rpctap-interop", "adapterID": "python", "pathFormat": "path",
        "linesStartAt1": True, "columnsStartAt1": True,
    })
    # debugpy answers `launch` only after configurationDone, so it is sent without waiting.
    launched = dap.request("launch", {
        "program": str(program), "console": "internalConsole", "cwd": workspace,
        "justMyCode": True, "python": [sys.executable],
    })
    await dap.event("initialized")
    bps = await call("setBreakpoints", {"source": {"path": str(program)}, "breakpoints": [{"line": 3}]})
    await call("configurationDone")
    await asyncio.wait_for(launched, TIMEOUT)
    stopped = (await dap.event("stopped"))["body"]
    threads = await call("threads")
    frames = (await call("stackTrace", {"threadId": stopped["threadId"]}))["stackFrames"]
    scopes = (await call("scopes", {"frameId": frames[0]["id"]}))["scopes"]
    variables = (await call("variables", {"variablesReference": scopes[0]["variablesReference"]}))["variables"]
    await call("continue", {"threadId": stopped["threadId"]})
    await dap.event("terminated")
    output = "".join(e["body"]["output"] for e in dap.events
                     if e["event"] == "output" and e["body"].get("category") == "stdout")
    try:
        await call("disconnect", {})
    except (RuntimeError, asyncio.TimeoutError):
        pass  # the adapter may already be tearing the session down
    proc.stdin.close()
    await asyncio.wait_for(proc.wait(), TIMEOUT)
    dap.reader.cancel()
    return relative(
        {
            "supports": sorted(k for k, v in init.items() if v is True),
            "breakpoints": [(b["verified"], b.get("line")) for b in bps["breakpoints"]],
            "stopped": stopped["reason"],
            "threads": len(threads["threads"]) > 0,
            "frames": [(f["name"], f.get("line"), Path(f.get("source", {}).get("path", "")).name)
                       for f in frames if f.get("source", {}).get("path") == str(program)],
            "locals": sorted((v["name"], v["value"]) for v in variables),
            "output": output,
        },
        workspace,
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("protocol", choices=["lsp", "mcp", "dap"])
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--out", required=True)
    argv = sys.argv[1:]
    if "--" not in argv:
        parser.error("give the server command after --")
    split = argv.index("--")
    args = parser.parse_args(argv[:split])
    # Library warnings (a message pygls could not handle, say) go to stderr, where the
    # test prints them when a run fails.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    cmd = argv[split + 1:]
    run = {"lsp": run_lsp, "mcp": run_mcp, "dap": run_dap}[args.protocol]
    result = asyncio.run(run(cmd, args.workspace))
    Path(args.out).write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
