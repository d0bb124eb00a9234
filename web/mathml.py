"""A small LaTeX subset rendered as MathML on the server: formulas with no script, no CDN.

Enough for the course's notation: fractions, roots, sub- and superscripts, sums
and products with limits, Greek letters, the usual relations and operators,
named functions (exp, log, tanh, max...), \\left( ... \\right), \\text{...},
\\mathbb{R}, accents (\\hat, \\bar, \\tilde) and bold (\\mathbf). Anything else is
refused with ``MathError`` naming it, so an author sees at once what will not
render. Every piece of text is HTML-escaped: what comes out is safe to insert.
"""

from __future__ import annotations

import re
from html import escape

GREEK = {
    name: chr(code)
    for name, code in {
        "alpha": 0x3B1, "beta": 0x3B2, "gamma": 0x3B3, "delta": 0x3B4, "epsilon": 0x3F5,
        "varepsilon": 0x3B5, "zeta": 0x3B6, "eta": 0x3B7, "theta": 0x3B8, "iota": 0x3B9,
        "kappa": 0x3BA, "lambda": 0x3BB, "mu": 0x3BC, "nu": 0x3BD, "xi": 0x3BE, "pi": 0x3C0,
        "rho": 0x3C1, "sigma": 0x3C3, "tau": 0x3C4, "upsilon": 0x3C5, "phi": 0x3D5,
        "varphi": 0x3C6, "chi": 0x3C7, "psi": 0x3C8, "omega": 0x3C9, "Gamma": 0x393,
        "Delta": 0x394, "Theta": 0x398, "Lambda": 0x39B, "Xi": 0x39E, "Pi": 0x3A0,
        "Sigma": 0x3A3, "Phi": 0x3A6, "Psi": 0x3A8, "Omega": 0x3A9,
    }.items()
}  # fmt: skip
OPERATORS = {
    "cdot": "\u22c5", "times": "\u00d7", "odot": "\u2299", "otimes": "\u2297", "le": "\u2264",
    "leq": "\u2264", "ge": "\u2265", "geq": "\u2265", "ne": "\u2260", "neq": "\u2260",
    "approx": "\u2248", "in": "\u2208", "to": "\u2192", "mapsto": "\u21a6", "pm": "\u00b1",
    "ldots": "\u2026", "cdots": "\u22ef", "mid": "|", "circ": "\u2218", "sim": "\u223c",
    "propto": "\u221d", "lVert": "\u2016", "rVert": "\u2016", "|": "\u2016", "equiv": "\u2261",
    "Rightarrow": "\u21d2", "leftarrow": "\u2190", "gets": "\u2190", "forall": "\u2200",
}  # fmt: skip
IDENTIFIERS = {"infty": "\u221e", "partial": "\u2202", "nabla": "\u2207", "ell": "\u2113",
               "prime": "\u2032"}  # fmt: skip
LARGE = {"sum": "\u2211", "prod": "\u220f"}
FUNCTIONS = {"exp", "log", "ln", "tanh", "sinh", "cosh", "sin", "cos", "tan", "arctan",
             "max", "min", "argmax", "argmin", "sign", "erf", "det", "lim", "softmax"}  # fmt: skip
LIMIT_LIKE = {"max", "min", "argmax", "argmin", "lim"}
ACCENTS = {"hat": "^", "bar": "\u00af", "tilde": "~", "vec": "\u2192", "dot": "\u02d9"}
SPACES = {",": "0.17em", ";": "0.28em", ":": "0.22em", " ": "0.25em", "quad": "1em",
          "qquad": "2em", "!": "0em"}  # fmt: skip
TOKEN = re.compile(r"\\([A-Za-z]+|.)|(\d+(?:\.\d+)?)|(\s+)|(.)", re.S)
MAX_CHARS = 2000


class MathError(ValueError):
    """A formula outside the subset (or malformed): the message names what."""


class _Parser:
    def __init__(self, source: str) -> None:
        if len(source) > MAX_CHARS:
            raise MathError(f"a formula of {len(source)} characters (at most {MAX_CHARS})")
        self.tokens: list[tuple[str, str]] = []
        for m in TOKEN.finditer(source):
            command, number, space, char = m.groups()
            if command is not None:
                self.tokens.append(("cmd", command))
            elif number is not None:
                self.tokens.append(("num", number))
            elif space is not None:
                self.tokens.append(("spc", " "))  # kept for \text{...}, skipped elsewhere
            else:
                self.tokens.append(("chr", char))
        self.pos = 0
        self.depth = 0

    def peek(self, spaces: bool = False) -> tuple[str, str] | None:
        while not spaces and self.pos < len(self.tokens) and self.tokens[self.pos][0] == "spc":
            self.pos += 1
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, spaces: bool = False) -> tuple[str, str]:
        token = self.peek(spaces)
        if token is None:
            raise MathError("the formula ends too early")
        self.pos += 1
        return token

    def expect(self, char: str) -> None:
        token = self.take()
        if token != ("chr", char):
            raise MathError(f"expected '{char}', found '{token[1]}'")

    def group_text(self) -> str:
        """The raw text of a {...} argument (for \\text and \\operatorname)."""
        self.expect("{")
        out = []
        while self.peek(spaces=True) != ("chr", "}"):
            kind, value = self.take(spaces=True)
            out.append(("\\" + value if len(value) > 1 else value) if kind == "cmd" else value)
        self.expect("}")
        return "".join(out)

    def expression(self, until: tuple[str, str] | None = None) -> str:
        self.depth += 1
        if self.depth > 50:
            raise MathError("a formula nested more than 50 deep")
        items = []
        while (token := self.peek()) is not None and token != until:
            if token == ("cmd", "right"):
                break
            items.append(self.term())
        self.depth -= 1
        return items[0] if len(items) == 1 else "<mrow>" + "".join(items) + "</mrow>"

    def argument(self) -> str:
        if self.peek() == ("chr", "{"):
            self.take()
            inner = self.expression(until=("chr", "}"))
            self.expect("}")
            return inner
        return self.atom()

    def term(self) -> str:
        token = self.peek()
        base_name = token[1] if token is not None and token[0] == "cmd" else ""
        base = self.atom()
        sub = sup = None
        while (token := self.peek()) in (("chr", "_"), ("chr", "^")):
            self.take()
            if token[1] == "_":
                sub = self.argument()
            else:
                sup = self.argument()
        if sub is None and sup is None:
            return base
        under = base_name in LARGE or base_name in LIMIT_LIKE
        if sub is not None and sup is not None:
            tag = "munderover" if under else "msubsup"
            return f"<{tag}>{base}{sub}{sup}</{tag}>"
        if sub is not None:
            tag = "munder" if under else "msub"
            return f"<{tag}>{base}{sub}</{tag}>"
        tag = "mover" if under else "msup"
        return f"<{tag}>{base}{sup}</{tag}>"

    def atom(self) -> str:
        kind, value = self.take()
        if kind == "num":
            return f"<mn>{value}</mn>"
        if kind == "chr":
            if value == "{":
                inner = self.expression(until=("chr", "}"))
                self.expect("}")
                return f"<mrow>{inner}</mrow>"
            if value.isalpha():
                return f"<mi>{escape(value)}</mi>"
            if value in "}^_&$#%~\\":
                raise MathError(f"unexpected '{value}'")
            if value in "()[]|":  # as written: only \left and \right stretch
                return f'<mo stretchy="false">{escape(value)}</mo>'
            return f"<mo>{escape(value)}</mo>"
        return self.command(value)

    def command(self, name: str) -> str:
        if name in GREEK:
            return f"<mi>{GREEK[name]}</mi>"
        if name in OPERATORS:
            return f"<mo>{OPERATORS[name]}</mo>"
        if name in IDENTIFIERS:
            return f"<mi>{IDENTIFIERS[name]}</mi>"
        if name in LARGE:
            return f'<mo largeop="true">{LARGE[name]}</mo>'
        if name in LIMIT_LIKE:
            return f"<mo>{name}</mo>"  # limits go under it in a display
        if name in FUNCTIONS:
            return f"<mi>{name}</mi><mo>\u2061</mo>"
        if name in SPACES:
            return f'<mspace width="{SPACES[name]}"></mspace>'
        if name in ("{", "}"):
            return f"<mo>{name}</mo>"
        if name == "frac":
            top = self.argument()
            return f"<mfrac>{top}{self.argument()}</mfrac>"
        if name == "sqrt":
            return f"<msqrt>{self.argument()}</msqrt>"
        if name in ACCENTS:
            return f'<mover accent="true">{self.argument()}<mo>{ACCENTS[name]}</mo></mover>'
        if name == "mathbf":
            return f'<mstyle mathvariant="bold">{self.argument()}</mstyle>'
        if name == "mathbb":
            letter = self.group_text()
            doubled = {"R": "\u211d", "N": "\u2115", "Z": "\u2124", "E": "\U0001d53c"}
            if letter not in doubled:
                raise MathError(f"\\mathbb{{{letter}}} (known: R, N, Z, E)")
            return f"<mi>{doubled[letter]}</mi>"
        if name in ("text", "mathrm", "operatorname"):
            text = escape(self.group_text())
            if name == "text":
                # MathML collapses an mtext's outer spaces: "1 \text{ if } x" keeps them.
                return f"<mtext>{text.replace(' ', chr(0xA0))}</mtext>"
            return f"<mi>{text}</mi>"
        if name == "left":
            opening = self.delimiter()
            inner = self.expression()
            if self.take() != ("cmd", "right"):
                raise MathError("\\left without \\right")
            closing = self.delimiter()
            return f"<mrow>{opening}{inner}{closing}</mrow>"
        raise MathError(f"\\{name} is not in the subset rendered (docs/AUTHORING.md, 'Handout')")

    def delimiter(self) -> str:
        kind, value = self.take()
        if kind == "chr" and value in "()[]|.":
            return "" if value == "." else f'<mo stretchy="true">{escape(value)}</mo>'
        if kind == "cmd" and value in ("{", "}", "|", "lVert", "rVert"):
            shown = OPERATORS.get(value, value)
            return f'<mo stretchy="true">{escape(shown)}</mo>'
        raise MathError(f"'{value}' is not a delimiter")


def to_mathml(latex: str, *, display: bool = True) -> str:
    """``latex`` as a MathML element; raises ``MathError`` for anything outside the subset."""
    parser = _Parser(latex)
    body = parser.expression()
    if parser.peek() is not None:
        raise MathError(f"unexpected '{parser.peek()[1]}'")  # type: ignore[index]
    mode = "block" if display else "inline"
    annotation = escape(latex)
    return (
        f'<math xmlns="http://www.w3.org/1998/Math/MathML" display="{mode}">'
        f'<semantics>{body}<annotation encoding="application/x-tex">{annotation}</annotation>'
        "</semantics></math>"
    )
