"""``elaas-bot operator add|list|remove`` and ``elaas-bot console link``: console access."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from bot.notices.status import BANGKOK
from handlers.settings import Settings
from handlers.storage import open_store


def _settings() -> Settings:
    from handlers.cli import _settings as settings  # one place reads the configuration

    return settings()


def cmd_operator_add(args: argparse.Namespace) -> int:
    from bot.core.store import MemoryStore
    from bot.notices.operators import OperatorError, Operators
    from bot.notices.outbox import normalize_province
    from handlers.cli import _lao_request, _post_lao

    provinces = [p.strip() for p in args.province]
    try:  # validate here so a typo never reaches the spool
        Operators(MemoryStore()).add(args.user, provinces, by="cli", now=datetime.now(BANGKOK))
    except OperatorError as exc:
        print(f"elaas-bot: {exc}", file=sys.stderr)
        return 2
    names = [normalize_province(p) or p for p in provinces]
    how = _post_lao(_settings(), _lao_request("operator_add", user=args.user.strip(),
                                              province=",".join(names)))
    print(f"{args.user}: provincial operator for {', '.join(names)}{how}")
    return 0


def cmd_operator_remove(args: argparse.Namespace) -> int:
    from bot.notices.operators import Operators
    from bot.notices.outbox import normalize_province
    from handlers.cli import UsageError, _lao_request, _post_lao

    settings = _settings()
    user = args.user.strip()
    op = Operators(open_store(settings)).get(user)  # read-only: no lock needed
    if op is None:
        raise UsageError(f"{user} is not a provincial operator: nothing removed "
                         "(see elaas-bot operator list)")
    not_held = [p for p in args.province or () if normalize_province(p) not in op.provinces]
    if not_held:
        raise UsageError(f"{user} is not an operator for {', '.join(not_held)} "
                         f"(has {', '.join(op.provinces)}): nothing removed")
    how = _post_lao(settings, _lao_request("operator_remove", user=user,
                                           province=",".join(args.province or [])))
    print(f"{args.user}: removed{' from ' + ', '.join(args.province) if args.province else ''}"
          f"{how}")
    return 0


def cmd_operator_list(args: argparse.Namespace) -> int:
    from bot.notices.operators import Operators

    settings = _settings()
    for a in sorted(str(a) for a in settings.admins):
        print(f"{a}\tnational (ELAAS_ADMINS)")
    ops = Operators(open_store(settings)).all()  # read-only: no lock needed
    for o in ops:
        print(f"{o.user}\t{', '.join(o.provinces)}\t(added by {o.added_by})")
    if not ops and not settings.admins:
        print("no operators yet: elaas-bot operator add CHANNEL:ID --province ลำพูน")
    return 0


def cmd_console_link(args: argparse.Namespace) -> int:
    from bot.ledger.book import Directory
    from bot.notices.console_auth import LoginLinks
    from bot.notices.console_chat import login_url
    from bot.notices.operators import Operators, resolve_actor

    settings = _settings()
    store = open_store(settings)  # read-only: no lock needed
    actor = resolve_actor(args.user.strip(), {str(a) for a in settings.admins},
                          Operators(store), Directory(store))
    if actor is None:
        print(f"elaas-bot: {args.user} is not an operator (ELAAS_ADMINS, "
              "elaas-bot operator add, or an LAO admin)", file=sys.stderr)
        return 2
    try:
        secret = settings.resolved_file_secret()
    except ValueError as exc:  # a database without ELAAS_FILE_SECRET, a damaged key file
        print(f"elaas-bot: {exc}", file=sys.stderr)
        return 2
    token = LoginLinks(secret).mint(args.user.strip())
    print(login_url(settings.public_base_url, token))
    print(f"one-time link for {args.user} ({actor.role}); valid 10 minutes, only while "
          "this serve keeps running", file=sys.stderr)
    return 0


def add_console_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``operator`` and ``console`` sub-commands."""
    op = sub.add_parser("operator", help="provincial operators of the web console")
    ops = op.add_subparsers(dest="opcmd", required=True)
    add = ops.add_parser("add", help="grant CHANNEL:ID one or more provinces")
    add.add_argument("user", help="channel:user_id, e.g. line:U1234... or telegram:12345")
    add.add_argument("--province", action="append", required=True,
                     help="a province (repeat for several)")
    add.set_defaults(func=cmd_operator_add)
    rm = ops.add_parser("remove", help="take provinces (default: the whole role) away")
    rm.add_argument("user")
    rm.add_argument("--province", action="append")
    rm.set_defaults(func=cmd_operator_remove)
    ops.add_parser("list", help="national admins and provincial operators").set_defaults(
        func=cmd_operator_list)
    con = sub.add_parser("console", help="the operator web console")
    cons = con.add_subparsers(dest="concmd", required=True)
    link = cons.add_parser("link", help="print a one-time login link for an operator")
    link.add_argument("user", help="channel:user_id")
    link.set_defaults(func=cmd_console_link)
