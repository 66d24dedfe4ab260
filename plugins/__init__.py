"""govbot's built-in plugins, installed as the `govbot.plugins` package.

Each module holds one plugin; `govbot.plugin_loader.BUILTIN_PLUGINS` lists them.
"""
