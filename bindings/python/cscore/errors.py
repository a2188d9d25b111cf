"""Status codes of the C library and the exception that carries them."""

import enum
from typing import Optional

from ._library import lib


def _status_members() -> dict:
    """Read the status table from the loaded library, so that codes added
    in a newer library get names too."""
    members = {}
    code = 0
    while True:
        name = lib.cs_status_name(code).decode()
        if name == "CS_UNKNOWN_STATUS":
            return members
        members[name[len("CS_"):]] = code
        code += 1


#: Status codes of the C library: Status.OK, Status.E_LABEL_CHANGED, ...
Status = enum.IntEnum("Status", _status_members(), module=__name__)
Status.__doc__ = "Status codes of the C library (cs_status), named without the CS_ prefix."


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _optional_text(raw: bytes) -> Optional[str]:
    text = _text(raw)
    return text or None


def _optional_number(value: int) -> Optional[int]:
    return None if value < 0 else value


class Error(Exception):
    """A call into libcscore failed.

    str(error) is the library's message (cs_last_error_message()) without
    the C function's name that leads it, and with the hints in Python's
    terms. The other attributes come from the thread's last-error record
    (cs_last_error()); those that do not apply to the failure are None.

    Attributes:
        status: the Status code.
        status_name: the C name of the code, e.g. "CS_E_LABEL_CHANGED".
        description: the library's one-line text for the code (cs_strerror()).
        function: the C function that failed, e.g. "cs_observe_batch".
        argument: the C parameter at fault, e.g. "labels".
        index: row of the batch or element index.
        example_id: example id involved.
        value: the offending value as text.
        path: file involved.
        offset: byte offset in that file.
        line, column: 1-based position in a text file.
    """

    def __init__(self, status: int, message: str, **details):
        super().__init__(message)
        try:
            self.status = Status(status)
            self.status_name = "CS_" + self.status.name
        except ValueError:
            self.status = status
            self.status_name = "CS_UNKNOWN_STATUS"
        self.description = _text(lib.cs_strerror(status))
        self.message = message
        self.function = details.get("function")
        self.argument = details.get("argument")
        self.index = details.get("index")
        self.example_id = details.get("example_id")
        self.value = details.get("value")
        self.path = details.get("path")
        self.offset = details.get("offset")
        self.line = details.get("line")
        self.column = details.get("column")

    def __repr__(self) -> str:
        return f"cscore.Error({self.status_name}, {self.message!r})"


# The library's hints name C calls and settings; Python users need the
# methods and arguments that stand for them.
_PYTHON_WORDS = (
    ("create the tracker with CS_REPEAT_KEEP_FIRST", 'create the Tracker with repeats="keep_first"'),
    ("logits with CS_INPUT_LOGITS", "logits with probabilities=False"),
    ("with cs_observe_batch;", "with observe_batch();"),
    ("cs_end_epoch()", "end_epoch()"),
)


def _in_python_words(message: str) -> str:
    for c_words, python_words in _PYTHON_WORDS:
        message = message.replace(c_words, python_words)
    return message


def _without_function(message: str, function: Optional[str]) -> str:
    """Drop the "cs_function: " that the library puts first. The traceback
    already names the Python call, and the C name stays in Error.function."""
    prefix = f"{function}: " if function else None
    if prefix and message.startswith(prefix):
        return message[len(prefix):]
    return message


def last_error(status: int) -> Error:
    """Build an Error for `status` from this thread's last-error record."""
    record = lib.cs_last_error().contents
    if record.status != status:
        # The record belongs to an earlier failure, so only the code is known.
        return Error(status, _text(lib.cs_strerror(status)))
    function = _optional_text(record.function)
    message = _in_python_words(_without_function(_text(record.message), function) or _text(lib.cs_strerror(status)))
    return Error(
        status,
        message,
        function=function,
        argument=_optional_text(record.argument),
        index=_optional_number(record.index),
        example_id=_optional_number(record.example_id),
        value=_optional_text(record.value),
        path=_optional_text(record.path),
        offset=_optional_number(record.offset),
        line=_optional_number(record.line),
        column=_optional_number(record.column),
    )


def check(status: int) -> None:
    """Raise Error for any status other than CS_OK."""
    if status != 0:
        raise last_error(status)
