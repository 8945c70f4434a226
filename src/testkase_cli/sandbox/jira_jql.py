"""The JQL subset the Jira emulator understands: lexer, parser and compiler to predicates.

Supported: `AND`/`OR`/`NOT`, parentheses, `ORDER BY updated|created|id|key ASC|DESC`, and the
fields `project`, `labels`, `updated`, `created`, `text`, `summary`, `description`, `comment`,
`key`/`id`/`issue`/`issuekey`, `issuetype`/`type`, `status`, `statusCategory`, `priority`,
`resolution`. Anything else is a 400 with the message Jira gives for it, never a silent
match-all. Date literals are read in the searching user's time zone, minute-granular.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

OPERATORS_HINT = (
    "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', "
    "'IS' and 'IS NOT'."
)
DATE_HINT = (
    "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', "
    "'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
)
KEYWORDS = frozenset({"and", "or", "not", "in", "is", "empty", "null", "order", "by"})
SORTABLE = ("updated", "created", "id", "key")


class JqlError(Exception):
    """A query Jira would refuse with 400; `message` is Jira's wording."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Searchable(Protocol):
    """What a predicate reads from an issue."""

    id: int
    project: str
    summary: str
    labels: list[str]
    issuetype: str
    status: str
    priority: str | None
    resolution: str | None
    created: int
    updated: int

    def text_tokens(self, field: str) -> Sequence[tuple[str, ...]]: ...


class Catalog(Protocol):
    """What the compiler needs to know about the instance."""

    def project_key(self, value: str) -> str | None: ...

    def issue_type(self, value: str) -> str | None: ...

    def status_name(self, value: str) -> str | None: ...

    def status_category(self, status: str) -> str: ...

    def priority_name(self, value: str) -> str | None: ...

    def resolve_issue(self, value: str) -> int | None: ...

    def now_ms(self) -> int: ...

    def zone(self) -> ZoneInfo: ...


Predicate = Callable[[Searchable], bool]


@dataclass(frozen=True)
class Token:
    kind: str  # word, string, op, lparen, rparen, comma, end
    text: str
    pos: int

    def shown(self) -> str:
        return self.text


@dataclass(frozen=True)
class Clause:
    field: str
    operator: str
    values: tuple[str, ...] | None  # None for EMPTY
    is_list: bool
    function: str | None = None


@dataclass(frozen=True)
class BoolNode:
    op: str  # and, or, not
    children: tuple[Node, ...]


Node = Clause | BoolNode


@dataclass(frozen=True)
class Query:
    where: Node | None
    order: tuple[tuple[str, bool], ...]  # (field, ascending)


_TOKEN = re.compile(
    r"""(?P<ws>\s+)|(?P<op>!=|!~|<=|>=|=|~|<|>)|(?P<lparen>\()|(?P<rparen>\))|(?P<comma>,)"""
    r"""|(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<word>[^\s()=,!<>~"']+)"""
)


def tokenize(jql: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(jql):
        match = _TOKEN.match(jql, pos)
        if match is None:
            char = jql[pos]
            if char in "\"'":
                raise JqlError(
                    f"Error in the JQL Query: The quoted string '{jql[pos + 1 :]}' has not been "
                    f"completed. (line 1, character {pos + 1})"
                )
            raise JqlError(
                f"Error in the JQL Query: The character '{char}' is a reserved JQL character. "
                f"You must enclose it in a string or use the escape '\\u{ord(char):04x}' instead. "
                f"(line 1, character {pos + 1})"
            )
        kind = match.lastgroup or "ws"
        if kind != "ws":
            text = match.group()
            if kind == "string":
                text = re.sub(r"\\(.)", r"\1", text[1:-1])
            tokens.append(Token(kind, text, pos + 1))
        pos = match.end()
    tokens.append(Token("end", "", len(jql) + 1))
    return tokens


class _Parser:
    def __init__(self, jql: str) -> None:
        self.tokens = tokenize(jql)
        self.index = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def is_word(self, *words: str) -> bool:
        return self.tok.kind == "word" and self.tok.text.lower() in words

    def expected(self, what: str, suffix: str = "") -> JqlError:
        tail = f" {suffix}" if suffix else ""
        if self.tok.kind == "end":
            return JqlError(
                f"Error in the JQL Query: Expecting {what} before the end of the query.{tail}"
            )
        return JqlError(
            f"Error in the JQL Query: Expecting {what} but got '{self.tok.shown()}'.{tail} "
            f"(line 1, character {self.tok.pos})"
        )

    def parse(self) -> Query:
        where: Node | None = None
        if not (self.tok.kind == "end" or self.is_word("order")):
            where = self.or_clause()
        order: tuple[tuple[str, bool], ...] = ()
        if self.is_word("order"):
            self.advance()
            if not self.is_word("by"):
                raise self.expected("'BY'")
            self.advance()
            order = self.sort_list()
        if self.tok.kind != "end":
            raise self.expected("either 'OR' or 'AND'")
        return Query(where, order)

    def sort_list(self) -> tuple[tuple[str, bool], ...]:
        items: list[tuple[str, bool]] = []
        while True:
            if self.tok.kind not in ("word", "string"):
                raise self.expected("a field name")
            name = self.advance().text
            ascending = True
            if self.is_word("asc", "desc"):
                ascending = self.advance().text.lower() == "asc"
            items.append((name, ascending))
            if self.tok.kind != "comma":
                return tuple(items)
            self.advance()

    def or_clause(self) -> Node:
        children = [self.and_clause()]
        while self.is_word("or"):
            self.advance()
            children.append(self.and_clause())
        return children[0] if len(children) == 1 else BoolNode("or", tuple(children))

    def and_clause(self) -> Node:
        children = [self.not_clause()]
        while self.is_word("and"):
            self.advance()
            children.append(self.not_clause())
        return children[0] if len(children) == 1 else BoolNode("and", tuple(children))

    def not_clause(self) -> Node:
        if self.is_word("not"):
            self.advance()
            return BoolNode("not", (self.not_clause(),))
        if self.tok.kind == "lparen":
            self.advance()
            inner = self.or_clause()
            if self.tok.kind != "rparen":
                raise self.expected("')'")
            self.advance()
            return inner
        return self.terminal()

    def terminal(self) -> Clause:
        if self.tok.kind not in ("word", "string") or self.is_word(*KEYWORDS):
            raise self.expected("a field name")
        field = self.advance().text
        operator = self.operator()
        if operator in ("is", "is not"):
            if not self.is_word("empty", "null"):
                raise self.expected("EMPTY or NULL")
            self.advance()
            return Clause(field, operator, None, is_list=False)
        if self.tok.kind == "lparen":
            return Clause(field, operator, self.value_list(), is_list=True)
        if self.tok.kind not in ("word", "string") or (
            self.tok.kind == "word" and self.is_word(*(KEYWORDS - {"empty", "null"}))
        ):
            raise self.expected("either a value, list or function")
        value = self.advance()
        if value.kind == "word" and value.text.lower() in ("empty", "null"):
            return Clause(field, operator, None, is_list=False)
        if value.kind == "word" and self.tok.kind == "lparen":
            self.advance()
            while self.tok.kind not in ("rparen", "end"):
                self.advance()
            if self.tok.kind != "rparen":
                raise self.expected("')'")
            self.advance()
            return Clause(field, operator, (), is_list=False, function=value.text)
        return Clause(field, operator, (value.text,), is_list=False)

    def operator(self) -> str:
        token = self.tok
        if token.kind == "op":
            self.advance()
            return token.text
        if self.is_word("in"):
            self.advance()
            return "in"
        if self.is_word("is"):
            self.advance()
            if self.is_word("not"):
                self.advance()
                return "is not"
            return "is"
        if self.is_word("not"):
            self.advance()
            if self.is_word("in"):
                self.advance()
                return "not in"
            raise self.expected("'IN'")
        raise self.expected("operator", OPERATORS_HINT)

    def value_list(self) -> tuple[str, ...]:
        self.advance()
        values: list[str] = []
        while True:
            if self.tok.kind not in ("word", "string"):
                raise self.expected("either a value, list or function")
            values.append(self.advance().text)
            if self.tok.kind == "rparen":
                self.advance()
                return tuple(values)
            if self.tok.kind != "comma":
                raise self.expected("')'")
            self.advance()


def parse(jql: str) -> Query:
    """Parse `jql`; raise JqlError with Jira's wording when it is not valid."""
    return _Parser(jql).parse()


_FIELDS: dict[str, tuple[str, frozenset[str]]] = {}


def _field(names: tuple[str, ...], operators: str) -> None:
    for name in names:
        _FIELDS[name.lower()] = (names[0], frozenset(operators.split(",")))


_EQ = "=,!=,in,not in"
_field(("project",), _EQ)
_field(("labels", "label"), _EQ + ",is,is not")
_field(("updated", "updatedDate"), "=,!=,<,>,<=,>=")
_field(("created", "createdDate"), "=,!=,<,>,<=,>=")
_field(("text",), "~")
_field(("summary",), "~,!~")
_field(("description",), "~,!~,is,is not")
_field(("comment",), "~,!~")
_field(("key", "id", "issue", "issuekey"), _EQ + ",<,>,<=,>=")
_field(("issuetype", "type"), _EQ)
_field(("status",), _EQ)
_field(("statusCategory", "category"), _EQ)
_field(("priority",), _EQ + ",is,is not")
_field(("resolution",), _EQ + ",is,is not")


def field_name(raw: str) -> str:
    """The canonical field for `raw` (an alias or any case), or JqlError."""
    entry = _FIELDS.get(raw.lower())
    if entry is None:
        raise JqlError(f"Field '{raw}' does not exist or you do not have permission to view it.")
    return entry[0]


def compile_query(query: Query, catalog: Catalog) -> Predicate | None:
    """A predicate for the WHERE part (None: no restriction)."""
    for name, _ in query.order:
        canonical = field_name(name)
        if canonical not in SORTABLE:
            raise JqlError(f"Not able to sort using field '{name}'.")
    if query.where is None:
        return None
    return _compile(query.where, catalog)


def _compile(node: Node, catalog: Catalog) -> Predicate:
    if isinstance(node, BoolNode):
        parts = [_compile(child, catalog) for child in node.children]
        if node.op == "not":
            only = parts[0]
            return lambda issue: not only(issue)
        if node.op == "and":
            return lambda issue: all(part(issue) for part in parts)
        return lambda issue: any(part(issue) for part in parts)
    return _clause(node, catalog)


def _clause(clause: Clause, catalog: Catalog) -> Predicate:
    canonical = field_name(clause.field)
    operators = _FIELDS[clause.field.lower()][1]
    op = clause.operator.lower()
    if op not in operators:
        raise JqlError(
            f"The operator '{clause.operator}' is not supported by the '{clause.field}' field."
        )
    if clause.function is not None:
        return _function_clause(clause, canonical, op, catalog)
    values = clause.values
    if values is not None:
        listed = "(" + ", ".join(values) + ")"
        if op in ("in", "not in") and not clause.is_list:
            raise JqlError(
                f"Operator '{op}' does not support the non-list value '\"{values[0]}\"' "
                f"for field '{clause.field}'."
            )
        if op not in ("in", "not in") and clause.is_list:
            raise JqlError(
                f"Operator '{op}' does not support the list value '{listed}' "
                f"for field '{clause.field}'."
            )
    if canonical in ("updated", "created"):
        assert values is not None
        return _date_clause(canonical, op, _date_ms(values[0], clause.field, catalog))
    if canonical in ("text", "summary", "description", "comment"):
        return _text_clause(canonical, op, values)
    if canonical == "labels":
        return _labels_clause(op, values)
    return _value_clause(canonical, clause.field, op, values, catalog)


def _function_clause(clause: Clause, canonical: str, op: str, catalog: Catalog) -> Predicate:
    name = clause.function or ""
    if name.lower() != "now" or canonical not in ("updated", "created"):
        raise JqlError(f"Unable to find JQL function '{name}()'.")
    return _date_clause(canonical, op, catalog.now_ms())


_PERIOD = re.compile(r"^([+-]?)\s*((?:\d+\s*[wdhm]\s*)+)$")
_UNIT_MS = {"w": 604_800_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000}


def _date_ms(raw: str, field: str, catalog: Catalog) -> int:
    text = raw.strip()
    period = _PERIOD.match(text)
    if period:
        total = sum(int(n) * _UNIT_MS[u] for n, u in re.findall(r"(\d+)\s*([wdhm])", period[2]))
        sign = -1 if period[1] == "-" else 1
        return catalog.now_ms() + sign * total
    for fmt in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return int(parsed.replace(tzinfo=catalog.zone()).timestamp() * 1000)
    raise JqlError(f"Date value '{raw}' for field '{field}' is invalid. {DATE_HINT}")


def _date_clause(canonical: str, op: str, limit: int) -> Predicate:
    compare: dict[str, Callable[[int], bool]] = {
        "=": lambda v: v == limit,
        "!=": lambda v: v != limit,
        "<": lambda v: v < limit,
        ">": lambda v: v > limit,
        "<=": lambda v: v <= limit,
        ">=": lambda v: v >= limit,
    }
    test = compare[op]
    if canonical == "updated":
        return lambda issue: test(issue.updated)
    return lambda issue: test(issue.created)


def words(text: str) -> tuple[str, ...]:
    """Lower-cased word tokens, as a full-text index would split them."""
    return tuple(re.findall(r"[0-9a-z]+", text.lower()))


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...], phrase: bool) -> bool:
    if not phrase:
        return set(needle) <= set(haystack)
    size = len(needle)
    return any(haystack[i : i + size] == needle for i in range(len(haystack) - size + 1))


def _text_clause(canonical: str, op: str, values: tuple[str, ...] | None) -> Predicate:
    if values is None:
        if op == "is":
            return lambda issue: not any(issue.text_tokens(canonical))
        return lambda issue: any(issue.text_tokens(canonical))
    raw = values[0].strip()
    phrase = len(raw) >= 2 and raw[0] == raw[-1] == '"'
    needle = words(raw)
    if not needle:
        raise JqlError(f"The field '{canonical}' does not support searching for an empty string.")

    def matches(issue: Searchable) -> bool:
        return any(_contains(tokens, needle, phrase) for tokens in issue.text_tokens(canonical))

    if op == "!~":
        return lambda issue: not matches(issue)
    return matches


def _labels_clause(op: str, values: tuple[str, ...] | None) -> Predicate:
    if values is None:
        if op == "is":
            return lambda issue: not issue.labels
        return lambda issue: bool(issue.labels)
    wanted = {v.casefold() for v in values}

    def has(issue: Searchable) -> bool:
        return any(label.casefold() in wanted for label in issue.labels)

    if op in ("=", "in"):
        return has
    # Jira: `!=` and `NOT IN` never match an issue without labels.
    return lambda issue: bool(issue.labels) and not has(issue)


_RANGE: dict[str, Callable[[int, int], bool]] = {
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def _value_clause(
    canonical: str, raw_field: str, op: str, values: tuple[str, ...] | None, catalog: Catalog
) -> Predicate:
    getter: Callable[[Searchable], object]
    if values is None:
        getter = {"priority": lambda i: i.priority, "resolution": lambda i: i.resolution}[canonical]
        if op == "is":
            return lambda issue: getter(issue) is None
        return lambda issue: getter(issue) is not None
    resolved: set[object] = set()
    for value in values:
        resolved.add(_resolve(canonical, raw_field, value, catalog))
    if canonical == "key" and op in _RANGE:
        # Range over issue ids; the value must name an existing issue (Data Center refuses
        # one that does not exist, e.g. deleted meanwhile, as for `=`).
        (limit,) = resolved
        assert isinstance(limit, int)
        return lambda issue: _RANGE[op](issue.id, limit)
    if canonical == "key":
        getter = lambda i: i.id  # noqa: E731
    elif canonical == "statusCategory":
        getter = lambda i: catalog.status_category(i.status)  # noqa: E731
    else:
        getter = {
            "project": lambda i: i.project,
            "issuetype": lambda i: i.issuetype,
            "status": lambda i: i.status,
            "priority": lambda i: i.priority,
            "resolution": lambda i: i.resolution,
        }[canonical]
    if op in ("=", "in"):
        return lambda issue: getter(issue) in resolved
    return lambda issue: getter(issue) is not None and getter(issue) not in resolved


_CATEGORIES = {
    "to do": "new",
    "new": "new",
    "in progress": "indeterminate",
    "indeterminate": "indeterminate",
    "done": "done",
    "2": "new",
    "4": "indeterminate",
    "3": "done",
}


def _resolve(canonical: str, raw_field: str, value: str, catalog: Catalog) -> object:
    found: object | None
    if canonical == "project":
        found = catalog.project_key(value)
    elif canonical == "issuetype":
        found = catalog.issue_type(value)
    elif canonical == "status":
        found = catalog.status_name(value)
    elif canonical == "priority":
        found = catalog.priority_name(value)
    elif canonical == "statusCategory":
        found = _CATEGORIES.get(value.lower())
    elif canonical == "resolution":
        found = None if value.lower() == "unresolved" else value
        if found is None:
            return None
    else:
        found = catalog.resolve_issue(value)
        if found is None:
            raise JqlError(f"An issue with key '{value}' does not exist for field '{raw_field}'.")
        return found
    if found is None:
        raise JqlError(f"The value '{value}' does not exist for the field '{raw_field}'.")
    return found
