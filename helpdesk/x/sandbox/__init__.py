"""The X sandbox: a local fake of the X API v2 subset the desk uses, over real HTTP.

Start one with ``XSandbox().start()`` (or as a context manager), register care accounts with
``sandbox.world.add_account(SandboxAccount(...))`` and point tweepy at ``sandbox.base_url``
through a transport adapter. ``python manage.py xsandbox`` runs one from the command line.
"""

from .records import SandboxAccount
from .server import XSandbox

__all__ = ["SandboxAccount", "XSandbox"]
