"""Word lists for the synthetic demo clinic (see ``kapp.services.demo``).

Every name here is invented: given names are common ones, family names are made-up
compounds, so no combination points at a real person.
"""

from __future__ import annotations

from kapp.domain.enums import DissociationDescriptor as D

GIVEN_FEMALE = (
    "Alma", "Bea", "Clara", "Dana", "Edith", "Fern", "Greta", "Hana", "Ines", "Jora",
    "Kit", "Lena", "Mira", "Nell", "Opal", "Petra", "Rosa", "Sana", "Tova", "Una",
    "Vera", "Wren", "Yara", "Zoe",
)
GIVEN_MALE = (
    "Abel", "Bram", "Cyril", "Dov", "Emil", "Felix", "Gus", "Hugo", "Ivo", "Jonas",
    "Kai", "Leon", "Milo", "Nico", "Otto", "Pax", "Rafe", "Silas", "Theo", "Ugo",
    "Vik", "Wes", "Xavi", "Yusuf",
)
GIVEN_OTHER = ("Ash", "Jules", "Remy", "Sky", "Robin", "Sasha")

_FAMILY_HEADS = (
    "Amber", "Birch", "Cinder", "Dapple", "Elder", "Fallow", "Glen", "Hollin", "Ivy",
    "Juniper", "Kestrel", "Linden", "Moss", "Nettle", "Oaken", "Pebble", "Quill", "Rowan",
    "Sorrel", "Thistle", "Umber", "Vale", "Willow", "Yarrow",
)
_FAMILY_TAILS = (
    "brook", "combe", "dale", "field", "ford", "gate", "holt", "lea", "mere", "ridge",
    "stead", "thorpe", "wick", "worth",
)
FAMILY = tuple(head + tail for head in _FAMILY_HEADS for tail in _FAMILY_TAILS)

STAFF = {
    # username: (full name, role value)
    "nurse1": ("Nora Fallowmere (demo nurse)", "nurse"),
    "nurse2": ("Tomas Quillridge (demo nurse)", "nurse"),
    "prescriber1": ("Dr Ada Linden (demo prescriber)", "prescriber"),
    "admin": ("Clinic Administrator (demo)", "admin"),
}

ALLERGIES = (
    "Penicillin (rash)", "Sulfa drugs", "Latex", "Codeine (nausea)", "Shellfish",
    "Adhesive tape", "Ibuprofen (wheeze)",
)

MEDICATIONS_DEPRESSION = (
    "Sertraline 150 mg daily", "Venlafaxine XL 225 mg daily", "Bupropion XL 300 mg daily",
    "Escitalopram 20 mg daily", "Mirtazapine 30 mg at night", "Duloxetine 60 mg daily",
    "Vortioxetine 20 mg daily", "Aripiprazole 5 mg daily (augmentation)",
    "Lithium 600 mg at night",
)
MEDICATIONS_PAIN = (
    "Gabapentin 600 mg three times daily", "Pregabalin 150 mg twice daily",
    "Amitriptyline 25 mg at night", "Naproxen 500 mg twice daily as needed",
)
MEDICATION_FLAG_DRUGS = {
    "benzodiazepine": "Lorazepam 0.5 mg as needed",
    "opioid": "Tramadol 50 mg up to four times daily",
    "stimulant": "Methylphenidate 10 mg mornings",
    "maoi": "Phenelzine 45 mg daily",
    "lamotrigine": "Lamotrigine 100 mg daily",
}

INTAKE_NOTES = (
    "Referred after three adequate antidepressant trials without remission.",
    "Prior ECT declined by patient; wishes to try ketamine first.",
    "Lives with partner, who will act as escort for every session.",
    "Works night shifts; prefers morning appointments.",
    "Discussed consent, expected effects and no driving until the next day.",
    "Previous psychotherapy (CBT, 20 sessions) with partial benefit.",
)
SESSION_NOTES = (
    "Patient reports sleeping better since the last infusion.",
    "Family member says mood noticeably brighter this week.",
    "Patient asked about spacing sessions further apart; discussed with prescriber.",
    "Talked through the experience after recovery; patient calm and reflective.",
    "Reminded about fasting instructions for the next session.",
    "Mild headache the evening after the last session, settled with paracetamol.",
)

DESCRIPTOR_WORDS: dict[str, tuple[str, ...]] = {
    D.BODY_DETACHMENT: ("my hands didn't feel like mine", "body felt far away, heavy"),
    D.SURROUNDINGS_DETACHMENT: ("the room felt like a stage set", "sounds were far off"),
    D.ALTERED_TIME: ("time stretched out", "felt like hours but it was minutes"),
    D.SPATIAL_DISTORTION: ("the ceiling was miles away", "walls kept breathing slowly"),
    D.FLOATING: ("felt like floating above the chair", "drifting like on a raft"),
    D.WATCHING_SELF: ("watching myself from the corner", "like seeing myself in a film"),
    D.THOUGHT_DISCONNECTION: ("thoughts were quiet for once", "couldn't hold onto a thought"),
    D.EUPHORIA: ("light and warm, happy for no reason", "a big soft calm"),
    D.CREATIVITY: ("colours turned into music", "lots of ideas, all connected"),
    D.HALLUCINATIONS: ("saw shapes moving behind my eyes", "geometric patterns, very bright"),
    D.CONFUSION: ("didn't know where I was for a bit", "lost track of what you asked"),
}
OBSERVATIONS = (
    "Eyes closed, calm, responds to voice.",
    "Quiet, occasional smiles; breathing regular.",
    "Talking slowly, oriented when asked.",
    "Restless hands for a few minutes, settled with reassurance.",
    "Laughing softly; no distress.",
    "Eye mask on, music playing, relaxed.",
    "Tearful briefly, says it is not unpleasant.",
)
