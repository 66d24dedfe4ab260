"""govbot's built-in plugins, installed as the `govbot.plugins` package.

One package per plugin (`announce/`, `governance/`, ...), each with its Plugin class in
`plugin.py`; `govbot.plugin_loader.BUILTIN_PLUGINS` lists them. In a checkout,
`govbot/plugins` is a symbolic link to this folder, so the source tree imports (and
type-checks) exactly as the installed package does.
"""
