"""Errors a user can cause and fix (config, data, checkpoints), printed as one line.

The command lines catch `UserError` only; every other exception is a bug in the code and
keeps its traceback.
"""

from __future__ import annotations


class UserError(Exception):
  """Base of the errors a user can fix; the CLIs print `jaxgen: error: <message>`."""


class ConfigError(UserError, ValueError):
  """A config field has a wrong type, range or name; the message names the field."""


class DataError(UserError, ValueError):
  """A dataset is missing, unreadable or not what the config says."""


class CheckpointError(UserError, RuntimeError):
  """A checkpoint exists but cannot be read into the expected state."""
