"""The MCP surface: the tools a boss calls, and the stdio transport they are served over.

Each tool validates its arguments, makes one call into the supervision or
coordination parts, and returns that part's model; nothing here decides anything.
"""
