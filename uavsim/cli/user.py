"""``uavsim user``: accounts of the web workbench (viewer, operator, analyst)."""

from __future__ import annotations

import sys

import click

from uavsim.cli.options import db_option


@click.group()
def user() -> None:
    """Manage the workbench's users."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["viewer", "operator", "analyst"]), required=True,
              help="viewer reads; operator also uploads logs; analyst also reviews verdicts.")
@db_option
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def add(name: str, role: str, db: str, password_stdin: bool) -> None:
    """Create user NAME with ROLE, or replace an existing user's role and password (stored as an argon2 hash)."""
    from uavsim.store import Store
    from uavsim.web import auth

    auth.check_user_name(name)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with Store(db) as store:
        auth.add_user(store, name, role, password)
    click.echo(f"user {name} ({role}) saved in {db}")
