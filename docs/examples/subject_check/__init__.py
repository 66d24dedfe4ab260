"""subject_check: an example govbot plugin, packaged like the built-in ones (see plugin.py).

`plugin.py` holds the Plugin class, `config.py` its section of the governance repo and
`check.py` the decision itself; they import one another relatively and import nothing
of govbot but the plugin API. A package of its own registers it with the entry point
`subject-check = "subject_check.plugin:SubjectCheck"` (docs/plugins.md).
"""
