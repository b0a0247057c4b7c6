"""Pure logic and configuration shared by the app, the stream and the tools (no Django)."""
