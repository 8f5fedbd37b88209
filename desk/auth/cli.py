"""``flask users create`` and ``flask tokens create``."""
from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask
from flask.cli import AppGroup

from ..extensions import db
from ..models import ApiToken, Department, Role, User, utcnow
from .passwords import MIN_PASSWORD, change_password, password_problem

users_cli = AppGroup("users", help="Manage the people who log in.")
tokens_cli = AppGroup("tokens", help="Manage API tokens.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice(Role.values()))
@click.option("--department", default=None, help="Department name (required for department_head).")
@click.option("--name", default="")
def create_user(email: str, password: str, role: str, department: str | None, name: str) -> None:
    """Create a user, or update the password, role and department of an existing one."""
    dept = None
    if department:
        dept = db.session.scalars(db.select(Department).where(Department.name == department)).first()
        if dept is None:
            raise click.UsageError(f"no department named {department!r}")
    if role == Role.DEPARTMENT_HEAD.value and dept is None:
        raise click.UsageError("a department_head needs --department")
    if password_problem(password):
        raise click.UsageError(f"the password must have at least {MIN_PASSWORD} characters")
    email = email.strip().lower()
    user: User | None = db.session.scalars(db.select(User).where(User.email == email)).first()
    created = user is None
    if user is None:
        user = User(email=email)
        db.session.add(user)
    user.name = name or user.name or email.split("@")[0]
    user.role = role
    user.department = dept
    if created:
        user.set_password(password)
    else:
        change_password(user, password)  # a new password logs the user out everywhere
    db.session.commit()
    click.echo(f"{'created' if created else 'updated'} user {user.email} ({user.role})")


@tokens_cli.command("create")
@click.option("--user", "email", required=True, help="E-mail of the token's owner.")
@click.option("--name", default="cli")
@click.option("--expires-in-days", type=click.IntRange(1, 3650), default=None,
              help="Days the token stays valid (default: until revoked).")
def create_token(email: str, name: str, expires_in_days: int | None) -> None:
    """Issue an API token and print it once."""
    user = db.session.scalars(db.select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        raise click.UsageError(f"no user {email!r}")
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    token, plain = ApiToken.issue(user, name, expires_at)
    db.session.add(token)
    db.session.commit()
    click.echo(plain)


def init_cli(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
