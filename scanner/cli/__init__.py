"""The command line: main.py is the group and its registrations, options.py the shared options, commands/ one
module per command or group."""
