"""Everything that crosses a process boundary: command datagrams, shared-memory slots,
the control-socket protocol, its server and its clients."""
