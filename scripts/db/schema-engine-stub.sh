#!/bin/sh
# Stand-in for the native schema engine, which cannot be downloaded offline. It must fail:
# an engine that "succeeds" would let prisma report work it never did.
echo "native schema engine unavailable offline: use npm run db:migrate (WASM engine)" >&2
exit 1
