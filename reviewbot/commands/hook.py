"""``reviewbot hook``: install git's sendemail-validate hook, and the entry points hooks run."""

from __future__ import annotations

import argparse

HELP = ("install the git send-email hook, or run as a hook (sendemail-validate, pre-commit, "
        "pre-push, b4 review series check)")

RUNNABLE = ("sendemail-validate", "pre-commit", "pre-push", "b4-review-series")
_CHECK_ARGS_HELP = ("options for `reviewbot check`, as one string "
                    "(e.g. --check-args='--fail-on error --tree ../qemu')")


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="hook_command", metavar="ACTION", required=True)
    install = sub.add_parser(
        "install", help="write a hook into this repository's hooks directory",
        description="Write a hook into $(git rev-parse --git-path hooks). This is the only "
        "command that writes into a repository.")
    install.add_argument("hook", choices=("sendemail-validate",),
                         help="the hook: sendemail-validate (run by git send-email per mail)")
    install.add_argument("--print", action="store_true", dest="print_only",
                         help="print the hook script instead of writing it")
    install.add_argument("--force", action="store_true",
                         help="replace a hook that reviewbot did not write")
    install.add_argument("-C", dest="repo", metavar="DIR", help="the repository (default: .)")
    install.add_argument("--check-args", default="", metavar="ARGS", help=_CHECK_ARGS_HELP)

    run = sub.add_parser(
        "run", help="what an installed hook runs",
        description="sendemail-validate MAIL [HEADERS]: collect the mails git send-email "
        "validates and check the series when the last one arrives. pre-commit: check the "
        "staged change. pre-push: check PRE_COMMIT_FROM_REF..PRE_COMMIT_TO_REF. "
        "b4-review-series: as b4's review-series-check-cmd, read the cover letter on standard "
        "input, fetch its thread from the public-inbox server ($REVIEWBOT_LORE_BASE, else "
        "lore) and check the whole series, answering in b4 review's JSON.")
    run.add_argument("hook", choices=RUNNABLE, help="which hook is running")
    run.add_argument("files", nargs="*", metavar="FILE",
                     help="sendemail-validate: the mail file, then (git 2.42+) the SMTP "
                     "header file")
    run.add_argument("--check-args", default="", metavar="ARGS", help=_CHECK_ARGS_HELP)


def run(args: argparse.Namespace) -> int:
    import shlex
    import sys

    from reviewbot.cli import main
    from reviewbot.errors import UsageError
    from reviewbot.integrations import hooks

    check_args = shlex.split(args.check_args)
    if args.hook_command == "install":
        if args.print_only:
            sys.stdout.write(hooks.hook_script(args.hook, check_args))
            return 0
        path = hooks.install(args.hook, cwd=args.repo, check_args=check_args, force=args.force)
        sys.stdout.write(f"installed {path}\n")
        return 0

    def check(argv: list[str] | tuple[str, ...]) -> int:
        return main(["check", *argv])

    if args.hook == "sendemail-validate":
        if not 1 <= len(args.files) <= 2:
            raise UsageError("sendemail-validate: expected MAIL [HEADERS]")
        header = args.files[1] if len(args.files) == 2 else None
        return hooks.sendemail_validate(args.files[0], header, lambda a: check(list(a)),
                                        check_args)
    if args.hook == "b4-review-series":
        return check([str(hooks.thread_of_stdin_mail()), "--format", "b4-review", *check_args])
    if args.files:
        raise UsageError(f"{args.hook}: takes no files (pre-commit passes none: "
                         "pass_filenames is false)")
    if args.hook == "pre-commit":
        return check(["--staged", *check_args])
    return check([hooks.pre_push_range(), *check_args])
