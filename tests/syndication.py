"""A wire story as six outlets ran it, under their own headlines, with their own datelines,
credits and trims; another reporter's article on the same event; and unrelated news."""

import json
from pathlib import Path

WIRE_BODY = [
    "Rescue crews pulled 41 survivors from the capsized ferry Aurora on Sunday after the vessel "
    "overturned in heavy seas off the coast of Gotland, the Swedish coast guard said.",
    "The ferry was carrying 112 passengers and 19 crew members from Nynashamn to Visby when it "
    "was struck by a wave estimated at nine meters shortly after midnight, officials said.",
    "Coast guard spokeswoman Lena Berg told reporters that helicopters from Sweden, Finland and "
    "Estonia had joined the search, and that divers would enter the hull at first light.",
    '"We are still hoping to find people alive in air pockets inside the ship," Berg said. '
    '"The water temperature gives us a window of a few more hours."',
    "The operator, Baltic Line, said in a statement that the Aurora had passed its annual "
    "safety inspection in March and that it was cooperating fully with investigators.",
    "Prime Minister Ulf Kristersson called the disaster a national tragedy and cut short a "
    "visit to Brussels to return to Stockholm, where he will meet relatives of the missing.",
    "Investigators from the Swedish Accident Investigation Authority will examine whether the "
    "bow door failed, a fault that sank the ferry Estonia in the same waters in 1994.",
]
COPIES = [
    ("wire/ap", "AP", "Rescuers pull 41 from capsized Baltic ferry", "VISBY, Sweden (AP) — ", ""),
    ("outlets/globe", "Boston Globe", "41 rescued as ferry overturns off Sweden", "", ""),
    (
        "outlets/seattle",
        "Seattle Times",
        "Baltic ferry disaster: dozens saved, many missing",
        "",
        "Copyright 2024 The Associated Press. All rights reserved.",
    ),
    ("outlets/yahoo", "Yahoo News", "Ferry Aurora capsizes in heavy seas", "STOCKHOLM — ", ""),
    (
        "outlets/msn",
        "MSN",
        "Divers to enter hull of overturned Swedish ferry",
        "",
        "Read more: the Baltic's worst ferry disasters.",
    ),
    ("outlets/guardian", "The Guardian", "Swedish ferry capsizes off Gotland", "", ""),
]
SAME_EVENT = (
    "Families waited through the night at the ferry terminal in Nynashamn for news of relatives "
    "who had boarded the Aurora. Maria Lind, whose brother was among the crew, said nobody from "
    "Baltic Line had called her. The Red Cross opened a crisis centre in the terminal building "
    "and counsellors sat with children until dawn. Several relatives criticized the company for "
    "sailing into a storm that forecasters had warned about two days earlier."
)
UNRELATED = [
    (
        "other/budget",
        "Council approves budget",
        "The city council approved a budget of 2.1 billion dollars on Tuesday after a long debate "
        "about school funding and road repairs. The mayor said the plan keeps taxes flat.",
    ),
    (
        "other/final",
        "United win the cup final",
        "United beat City 2-1 in the cup final on Saturday with a late goal from their captain. "
        "Fans celebrated in the streets of the city until the early hours of Sunday.",
    ),
]


def copy_records() -> list[dict[str, str]]:
    """The six copies of the wire story, as JSONL records. The Globe's trims the last
    paragraph; the others add a dateline or a credit line."""
    records = []
    for doc_id, source, title, dateline, credit in COPIES:
        body = list(WIRE_BODY[:-1] if source == "Boston Globe" else WIRE_BODY)
        body[0] = dateline + body[0]
        text = "\n\n".join(body + ([credit] if credit else []))
        url = f"https://{source.lower().replace(' ', '')}.example/{doc_id.split('/')[-1]}"
        records.append({"_id": doc_id, "title": title, "text": text, "source": source, "url": url})
    return records


def write_corpus(path: Path) -> None:
    records = copy_records()
    records.append(
        {
            "_id": "other/families",
            "title": "Families wait for news",
            "text": SAME_EVENT,
            "source": "Local Times",
        }
    )
    records += [{"_id": i, "title": t, "text": x, "source": "City Paper"} for i, t, x in UNRELATED]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
