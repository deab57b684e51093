"""Everything that crosses a process boundary: command datagrams, shared-memory slots,
the control-socket protocol and client helpers."""
