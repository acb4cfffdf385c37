"""One module per subcommand: HELP, configure(parser), run(args) -> int; ``parser.py``
gathers them. This file names them and the exit statuses, and imports nothing: a check the
server answers (reviewbot/server/) reads it before anything else."""

# Order is the order of `reviewbot --help`.
COMMANDS = ("check", "show", "graph", "rules", "spec", "mine", "eval", "lore", "hook",
            "followup", "server")

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2
EXIT_INTERNAL = 3
