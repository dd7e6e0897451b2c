// Placeholder: the chat page's script. It talks to chatd over /ws, one
// JSON object per WebSocket text frame (chatcore/PROTOCOL.md).
"use strict";
