"""Which column holds the email, the names, the company and the phone.

Headers are compared with aliases in several languages after folding case, accents and
punctuation (``E-Mail``, ``Prénom``, ``apellido``). Where a header is missing or unknown,
the content decides: the share of a column's cells that look like emails, phones or names.
Every mapping carries a confidence; columns that map to nothing stay, as extra fields.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from worker.model import FULL_NAME, MAPPABLE_FIELDS
from worker.validation.rules import mailbox_address

_ALIASES: dict[str, tuple[str, ...]] = {
    "email": (
        # Lithuanian, Latvian, Estonian
        "el. paštas",
        "el. pašto adresas",
        "e-pasts",
        "e-pasta adrese",
        "e-posti aadress",
        "email",
        "e-mail",
        "e mail",
        "mail",
        "email address",
        "e-mail address",
        "emailaddress",
        "correo",
        "correo electronico",
        "correo electrónico",
        "email adres",
        "courriel",
        "adresse email",
        "adresse e-mail",
        "adresse électronique",
        "e-mail-adresse",
        "posta elettronica",
        "indirizzo email",
        "endereco de email",
        "endereço de e-mail",
        "correio eletrónico",
        "correio eletrônico",
        "correio electrónico",
        "sähköposti",
        "e-post",
        "epost",
        "メール",
        "メールアドレス",
        "电子邮件",
        "邮箱",
        "work email",
        "primary email",
        "adresse de messagerie",
        "direccion de correo electronico",
        "indirizzo posta elettronica",
        "indirizzo e-mail",
        "e-mailadres",
        "e-postadress",
        "e-postadresse",
        "sahkopostiosoite",
        "adres e-mail",
        "e-mailova adresa",
        "e-posta",
        "e-posta adresi",
        "электронная почта",
        "эл. почта",
        "адрес электронной почты",
        "ηλεκτρονικό ταχυδρομείο",
        "電子メール",
        "电子邮箱",
        "이메일",
        "이메일 주소",
    ),
    "first_name": (
        # Lithuanian, Latvian, Estonian
        "vardas",
        "vārds",
        "eesnimi",
        "adı",  # noqa: RUF001 - Turkish's dotless i
        "prenume",
        "ім'я",
        "first name",
        "firstname",
        "first",
        "given name",
        "givenname",
        "forename",
        "prenom",
        "prénom",
        "nombre",
        "nome",
        "primeiro nome",
        "nome proprio",
        "vorname",
        "voornaam",
        "imie",
        "imię",
        "名",
        "fname",
        "fornavn",
        "förnamn",
        "etunimi",
        "jméno",
        "křestní jméno",
        "keresztnév",
        "utónév",
        "имя",
        "όνομα",
        "名字",
        "이름",
    ),
    "last_name": (
        # Lithuanian, Latvian, Estonian
        "pavardė",
        "uzvārds",
        "perekonnanimi",
        "perenimi",
        "soyadı",  # noqa: RUF001 - Turkish's dotless i
        "nume",
        "прізвище",
        "last name",
        "lastname",
        "last",
        "surname",
        "family name",
        "familyname",
        "nom",
        "nom de famille",
        "apellido",
        "apellidos",
        "sobrenome",
        "apelido",
        "último nome",
        "ultimo nome",
        "cognome",
        "nachname",
        "familienname",
        "achternaam",
        "nazwisko",
        "姓",
        "lname",
        "efternavn",
        "etternavn",
        "efternamn",
        "sukunimi",
        "příjmení",
        "vezetéknév",
        "soyad",
        "soyadı",  # noqa: RUF001 - Turkish dotless i
        "фамилия",
        "επώνυμο",
        "姓氏",
        "성",
    ),
    # The whole name in one column: split into first and last name when no column holds
    # either (a column of first names is "Nome", "Nombre" or "Vorname"; "Nom" is French's
    # last name, so those stay theirs).
    "full_name": (
        # Lithuanian, Latvian, Estonian
        "vardas ir pavardė",
        "vārds, uzvārds",
        "vārds uzvārds",
        "täisnimi",
        "name",
        "full name",
        "fullname",
        "display name",
        "complete name",
        "nome completo",
        "nombre completo",
        "nom complet",
        "nome e cognome",
        "vollständiger name",
        "volledige naam",
        "imię i nazwisko",
        "jméno a příjmení",
        "ad soyad",
        "полное имя",
        "фио",
        "ονοματεπώνυμο",
        "氏名",
        "姓名",
    ),
    "company": (
        # Lithuanian, Latvian, Estonian
        "įmonė",
        "uzņēmums",
        "ettevõte",
        "spółka",
        "organizacja",
        "arbeitgeber",
        "company",
        "company name",
        "organisation",
        "organization",
        "org",
        "employer",
        "account",
        "account name",
        # Microsoft Dynamics CRM's contact export names the contact's company so.
        "parent customer",
        "business",
        "empresa",
        "compania",
        "compañía",
        "société",
        "societe",
        "entreprise",
        "azienda",
        "firma",
        "unternehmen",
        "bedrijf",
        "会社",
        "会社名",
        "公司",
        "organization name",
        "organisation name",
        "organización",
        "società",
        "företag",
        "yritys",
        "společnost",
        "cég",
        "şirket",
        "компания",
        "организация",
        "εταιρεία",
        "公司名称",
        "회사",
    ),
    "phone": (
        # Lithuanian, Latvian, Estonian
        "telefonas",
        "telefono numeris",
        "tālrunis",
        "telefons",
        "telefoninumber",
        "telefonnummer",
        "numer telefonu",
        "telefon komórkowy",
        "telefonní číslo",
        "mobilní telefon",
        "telefon numarası",  # noqa: RUF001 - Turkish's dotless i
        "cep telefonu",
        "phone",
        "phone number",
        "telephone",
        "telephone number",
        "phone no",
        "tel no",
        "telephone no",
        "tel",
        "mobile",
        "mobile phone",
        "mobile number",
        "cell",
        "cell phone",
        "cellphone",
        "telefono",
        "teléfono",
        "telefone",
        "téléphone",
        "telefon",
        "handy",
        "movil",
        "móvil",
        "celular",
        "portable",
        "cellulare",
        "電話",
        "電話番号",
        "电话",
        "手机",
        "mobiltelefon",
        "tel mobile",
        "telephone mobile",
        "telefone celular",
        "mobiele telefoon",
        "telefoon",
        "puhelin",
        "телефон",
        "мобильный телефон",
        "τηλέφωνο",
        "携帯電話",
        "전화",
        "전화번호",
        "휴대폰",
        "telemóvel",
        "telemovel",
        "telefone móvel",
        "fone",
        "téléphone portable",
        "numéro de téléphone",
        "gsm",
        "mobiel",
        "mobiele nummer",
        "contact number",
        "whatsapp",
    ),
}


def fold(text: str) -> str:
    """Lower case, accents off, punctuation and spaces collapsed: ``E-Mail`` -> ``e mail``."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[\W_]+", " ", stripped).strip()


_FOLDED = {fold(alias): name for name, aliases in _ALIASES.items() for alias in aliases}
# The known names of fields spelt with letters beyond ASCII (``imię``, ``Příjmení``,
# ``Soyadı``), lower case: a reading of the bytes that spells them is the file's.  # noqa: RUF003
ACCENTED_FIELD_NAMES = frozenset(
    alias for aliases in _ALIASES.values() for alias in aliases if not alias.isascii()
)
_FOLDED_COMPACT = {key.replace(" ", ""): name for key, name in _FOLDED.items()}

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]{2,}")
_PHONE = re.compile(r"\+?[\d][\d ()./-]{5,18}\d")
# A date with a four-digit year first or last (03/17/2010, 2024-05-01): no phone.
_DATE = re.compile(r"(?:19|20)\d\d([-/.])\d{1,2}\1\d{1,2}|\d{1,2}([-/.])\d{1,2}\2(?:19|20)\d\d")
_NAME = re.compile(r"[^\W\d_]+([ '\-.][^\W\d_]+){0,3}\.?")


# Words that say which of several values a column holds, or whose it is, not what it is:
# ``E-mail 1 - Value`` (Google Contacts), ``Business Phone`` (Outlook), ``Person - Email -
# Work`` (Pipedrive), ``Customer Email``, ``Telefon geschäftlich``.
_QUALIFIERS = frozenset(
    fold(word)
    for word in [
        *("value", "primary", "main", "preferred", "default", "work", "business", "office"),
        *("home", "personal", "private", "other", "mobile"),
        *("person", "contact", "customer", "client", "lead"),
        *("geschäftlich", "privat", "bureau", "domicile", "trabajo", "casa", "particular"),
        *("comercial", "residencial", "ufficio", "werk", "thuis", "arbete", "hem"),
        *("de", "del", "du", "do", "da", "di", "op"),
        # A template's marks: ``Email (required)``, ``First Name*`` (the * folds away).
        *("required", "optional", "mandatory", "obrigatorio", "obligatorio", "obligatoire"),
        *("pflicht", "pflichtfeld", "opcional", "facultatif", "facultativo", "verplicht"),
    ]
)
# Words that make a column about a value, not the value: ``E-mail 1 - Type``,
# ``E-mail Display Name``, ``Phone Label``.
_ABOUT_A_VALUE = frozenset(
    ["type", "typ", "label", "kind", "display", "status", "verified", "consent", "opt"]
)


def header_field(header: str) -> str | None:
    """The field a header names, if it is a known alias, alone or with words that say
    which value it is (``E-mail 1 - Value``, ``Business Phone``), or with a note in
    brackets after it (``Vorname (Ansprechpartner)``, DATEV's ``Vorname (Adressattyp
    natürl. Person)``); a whole name whose note names a company is the company's
    (DATEV's ``Name (Adressattyp Unternehmen)``)."""
    known = _field_of(fold(header))
    if known is not None:
        return known
    noted = _BRACKETED_NOTE.fullmatch(header)
    if noted is None or not noted.group(1):
        return None
    note = fold(noted.group(2)).split()
    if any(word in _ABOUT_A_VALUE for word in note):
        return None  # ``E-Mail (Typ)``: about the value, not the value
    named = _field_of(fold(noted.group(1)))
    if named == FULL_NAME and any(_FOLDED.get(word) == "company" for word in note):
        return "company"
    return named


# A note in brackets after a header's name: ``E-Mail (Rechnungsempfänger)``.
_BRACKETED_NOTE = re.compile(r"\s*([^(\[]*?)\s*[(\[]([^()\[\]]*)[)\]]\s*")


def _field_of(folded: str) -> str | None:
    known = _FOLDED.get(folded) or _FOLDED_COMPACT.get(folded.replace(" ", ""))
    if known or not folded:
        return known
    words = folded.split()
    if any(word in _ABOUT_A_VALUE for word in words):
        return None
    rest = " ".join(word for word in words if word not in _QUALIFIERS and not word.isdigit())
    if not rest or rest == folded:
        return None
    return _FOLDED.get(rest) or _FOLDED_COMPACT.get(rest.replace(" ", ""))


def is_known_header(cell: str) -> bool:
    """Whether ``cell`` is one of the known header aliases."""
    return header_field(cell) is not None


@dataclass(frozen=True)
class ColumnMapping:
    """Field -> column index, with a confidence per field and the columns left as extras."""

    columns: dict[str, int]
    confidence: dict[str, float]
    method: dict[str, str]
    extra: tuple[int, ...] = field(default=())

    @property
    def overall_confidence(self) -> float:
        """The lowest confidence of the mapped fields (0 when nothing is mapped)."""
        return min(self.confidence.values(), default=0.0)

    def as_dict(self, headers: Sequence[str]) -> dict[str, object]:
        """For the job row and ``inspect``."""
        return {
            "fields": {
                name: {
                    "column": index,
                    "header": headers[index] if index < len(headers) else None,
                    "confidence": round(self.confidence[name], 3),
                    "method": self.method[name],
                }
                for name, index in self.columns.items()
            },
            "extra": [
                headers[index] if index < len(headers) else f"column_{index + 1}"
                for index in self.extra
            ],
        }


def _content_scores(rows: Sequence[Sequence[str]], column: int) -> dict[str, float]:
    cells = [row[column].strip() for row in rows if column < len(row) and row[column].strip()]
    if not cells:
        return {}
    total = len(cells)
    # An address in a mailbox (``Ana Silva <ana@x.pt>``) or a link is an address too.
    emails = sum(bool(_EMAIL.fullmatch(cell) or mailbox_address(cell)) for cell in cells) / total
    phone_cells = sum(bool(_PHONE.fullmatch(cell)) and not _DATE.fullmatch(cell) for cell in cells)
    phones = phone_cells / total
    names = sum(bool(_NAME.fullmatch(cell)) and len(cell) <= 40 for cell in cells) / total
    return {"email": emails, "phone": phones, "name": names}


def map_columns(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    overrides: dict[str, object] | None = None,
) -> ColumnMapping:
    """Map fields to columns from the headers (aliases), then the content of ``rows``;
    ``overrides`` (field -> header name or 0-based index) win."""
    width = max([len(headers), *(len(row) for row in rows)], default=0)
    columns: dict[str, int] = {}
    confidence: dict[str, float] = {}
    method: dict[str, str] = {}

    for name, target in (overrides or {}).items():
        if name not in MAPPABLE_FIELDS:
            continue
        index = (
            target
            if isinstance(target, int)
            else (list(headers).index(str(target)) if str(target) in headers else None)
        )
        if index is not None and 0 <= index < width:
            columns[name], confidence[name], method[name] = index, 1.0, "override"

    # Columns a header names, in order; of several that name one field (Work Phone, Mobile
    # Number), the first that holds anything in the sample: an empty one never wins.
    named_by: dict[str, list[int]] = {}
    for index, header in enumerate(headers):
        named = header_field(header)
        if named and named not in columns and index not in columns.values():
            named_by.setdefault(named, []).append(index)
    if FULL_NAME in named_by and "first_name" in {*columns, *named_by}:
        # ``Name`` beside ``Vorname`` or ``First Name`` is the family name (German and
        # DATEV exports write ``Name;Vorname``), where no column is named so.
        whole = named_by.pop(FULL_NAME)
        if "last_name" not in {*columns, *named_by}:
            named_by["last_name"] = whole
    if {"first_name", "last_name"} & {*columns, *named_by}:
        named_by.pop(FULL_NAME, None)  # a whole name only where no column has a part of it
    for named, indexes in named_by.items():
        filled = [i for i in indexes if any(i < len(row) and row[i].strip() for row in rows)]
        index = (filled or indexes)[0]
        columns[named], method[named] = index, "header"
        content = _content_scores(rows, index)
        # The header said so; content that disagrees lowers the confidence.
        agrees = {"email": content.get("email", 1.0), "phone": content.get("phone", 1.0)}
        confidence[named] = 0.5 + 0.5 * agrees.get(named, 1.0) if rows else 0.9

    unassigned = [index for index in range(width) if index not in columns.values()]
    scores = {index: _content_scores(rows, index) for index in unassigned}
    for name, key, threshold in (("email", "email", 0.6), ("phone", "phone", 0.6)):
        if name in columns:
            continue
        ranked = sorted(
            ((s.get(key, 0.0), -i) for i, s in scores.items() if i not in columns.values()),
            reverse=True,
        )
        if ranked and ranked[0][0] >= threshold:
            index = -ranked[0][1]
            columns[name], confidence[name], method[name] = index, ranked[0][0] * 0.9, "content"

    # Names: only a file without headers has its name columns guessed from content (the
    # first name-like columns are first name, last name, company); with headers, an
    # unknown header ("Nickname") is kept as an extra rather than guessed.
    name_columns = [
        i
        for i in unassigned
        if not headers and i not in columns.values() and scores.get(i, {}).get("name", 0.0) >= 0.8
    ]
    if len(name_columns) == 1 and not {"first_name", "last_name"} & set(columns):
        # One column of names, most of them of two words or more (Ana Silva): whole names.
        cells = [row[name_columns[0]] for row in rows if name_columns[0] < len(row)]
        if sum(" " in cell.strip() for cell in cells) * 2 > len(cells):
            index = name_columns.pop()
            columns[FULL_NAME], method[FULL_NAME] = index, "content"
            confidence[FULL_NAME] = round(scores[index]["name"] * 0.5, 3)
    for name in ("first_name", "last_name", "company"):
        if name not in columns and name_columns:
            index = name_columns.pop(0)
            columns[name], method[name] = index, "content"
            confidence[name] = round(scores[index]["name"] * 0.5, 3)

    extra = tuple(index for index in range(width) if index not in columns.values())
    return ColumnMapping(columns, confidence, method, extra)
