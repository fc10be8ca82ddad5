"""Turn a file's bytes into text: an encoding given in the config, or one detected from the bytes."""

from __future__ import annotations

import codecs
from typing import NamedTuple

from tuneforge.errors import DataError

__all__ = ["Decoded", "decode"]

# Excel's "CSV UTF-8" starts with a UTF-8 BOM, its "Unicode text" export is UTF-16 with a BOM.
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Tried strictly in order before guessing. GB18030 is a superset of GBK/GB2312, what Chinese Excel exports in.
_LIKELY = ("utf-8", "gb18030")
# The guesses taken without asking. Any other (cp1252, mac_latin2, ...) is asked for: on a few short lines the
# detector cannot tell Latin-1 from mac_latin2, and a wrong guess garbles every accent (café -> cafť).
_TRUSTED_GUESSES = ("utf_8", "gb18030", "gbk", "gb2312")
_MAX_CHAOS = 0.1  # charset-normalizer's mess ratio (0: clean); above it the guess is not taken either


class Decoded(NamedTuple):
    text: str
    encoding: str
    guessed: bool  # True when charset-normalizer had to guess: worth a warning in the report


def decode(data: bytes, source: str, encoding: str = "auto") -> Decoded:
    """Decode `data`; `encoding="auto"` tries a BOM, UTF-8, GB18030, then charset-normalizer's best guess.

    Only a confident guess of a Chinese or UTF-8 encoding is taken; otherwise a DataError asks for data.encoding,
    as it does, naming the line, for a UTF-8 file with a line that is not.

    >>> decode("退款".encode("gbk"), "a.csv")
    Decoded(text='退款', encoding='gb18030', guessed=False)
    """
    if encoding != "auto":
        return Decoded(_decode_as(data, source, encoding), encoding, guessed=False)
    for bom, name in _BOMS:
        if data.startswith(bom):
            return Decoded(_decode_as(data, source, name), name, guessed=False)
    for name in _LIKELY:
        try:
            return Decoded(data.decode(name), name, guessed=False)
        except UnicodeDecodeError as exc:
            if name == "utf-8":
                _refuse_mostly_utf8(data, source, exc)
    return _guess(data, source)


def _refuse_mostly_utf8(data: bytes, source: str, error: UnicodeDecodeError) -> None:
    # A UTF-8 file with a line pasted in from a GBK or Latin-1 source: no single encoding reads it, so name the line.
    lines = [line for line in data.split(b"\n") if not line.isascii()]
    valid = sum(_is_utf8(line) for line in lines)
    if valid and valid >= len(lines) - valid:
        line = data[: error.start].count(b"\n") + 1
        raise DataError(
            f"{source}:{line}: not valid UTF-8 (byte 0x{data[error.start]:02x}), though the other lines are; "
            "re-save that line as UTF-8, or set data.encoding to the encoding of the whole file"
        )


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _guess(data: bytes, source: str) -> Decoded:
    from charset_normalizer import from_bytes  # imported here: only odd files get this far

    best = from_bytes(data).best()
    if best is None:
        raise DataError(
            f"{source}: cannot tell the text encoding (not UTF-8 nor GBK); set data.encoding, e.g. big5 or latin-1"
        )
    if best.encoding not in _TRUSTED_GUESSES or best.chaos > _MAX_CHAOS:
        raise DataError(
            f"{source}: the text is not UTF-8 nor GBK, and its encoding can only be guessed ({best.encoding}?); "
            f"set data.encoding to the file's encoding, e.g. {best.encoding}, latin-1 or big5"
        )
    return Decoded(str(best), best.encoding, guessed=True)


def _decode_as(data: bytes, source: str, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except LookupError:
        raise DataError(
            f"{source}: unknown encoding '{encoding}' in data.encoding; use e.g. utf-8, gbk or auto"
        ) from None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{source}: line {line} is not valid {encoding} (byte 0x{data[exc.start]:02x}); "
            "set data.encoding to the file's encoding, or to auto to detect it"
        ) from None
