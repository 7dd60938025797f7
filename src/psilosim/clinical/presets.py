"""Built-in trial presets with the published designs.

``carhart2021``  Carhart-Harris et al. 2021 NEJM 384:1402 — psilocybin 2 × 25 mg three weeks apart
                 + daily placebo vs 2 × 1 mg psilocybin + escitalopram 10 mg for 3 weeks then 20 mg
                 for 3 weeks; psychological support in both arms; all told they would receive
                 psilocybin (equal expectancy); QIDS-SR-16 weekly to week 6 (calibration: CL1).
``goodwin2022``  Goodwin et al. 2022 NEJM 387:1637 — single 25 / 10 / 1 mg (COMP360) with
                 psychological support, treatment-resistant depression, MADRS to week 12
                 (prediction).
``raison2023``   Raison et al. 2023 JAMA 330:843 — single 25 mg vs 100 mg niacin (active placebo),
                 with psychological support, MADRS at days 2, 8, 15, 29, 43 (prediction).
``szigeti2021``  Szigeti et al. 2021 eLife 10:e62878 — self-blinded microdosing vs placebo for 4
                 weeks, no therapy, no clinical setting (check: CL3; nothing is fitted to it).
``ketamine_iv``  single 0.5 mg/kg IV ketamine over 40 min vs saline, MADRS at days 1, 3, 7, 14
                 (design of the trials pooled by Kishimoto et al. 2016 Psychol Med 46:1459;
                 calibration: CL4).

Every arm's biology is links 1–5 of the chain run per patient (:mod:`psilosim.clinical.biology`);
example what-if trials (therapy, environment, SSRI washout, microdosing schedules, a
non-hallucinogenic analogue) are YAML files in ``psilosim/scenarios/trials/``.

Baseline means are the published ones where read (CL1: QIDS 14.5 vs 16.4 → pooled 15.45; Goodwin:
MADRS 32–33); SDs and the inclusion thresholds marked "assumed" in ``published["notes"]`` were
not read in the primary texts.

``daws2022``      Daws et al. 2022 Nat Med 28:844, RCT part: the imaging subset (n=43) of Carhart-Harris
                 2021 — the carhart2021 arms, resting fMRI at baseline and 3 weeks after the second dose
                 (day 42, the last day of escitalopram), BDI; network measures from
                 :mod:`psilosim.rewiring` (check: NW3; prediction).
``daws2022_trd``  Daws et al. 2022, open-label part (Carhart-Harris et al. 2016 Lancet Psychiatry 3:619;
                 2017 Sci Rep 7:13187): 10 mg then 25 mg psilocybin 7 days apart, treatment-resistant
                 depression, n=16 imaged, fMRI at baseline and 1 day after 25 mg (day 8), BDI to 6 months
                 (checks: NW3, NW4; prediction).
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import InputError
from .design import TrialDesign, design_from_dict

CARHART = "Carhart-Harris et al. 2021 NEJM 384:1402"
GOODWIN = "Goodwin et al. 2022 NEJM 387:1637"
RAISON = "Raison et al. 2023 JAMA 330:843"
SZIGETI = "Szigeti et al. 2021 eLife 10:e62878"
KETAMINE = "Kishimoto et al. 2016 Psychol Med 46:1459; Han et al. 2016 Neuropsychiatr Dis Treat 12:2859"


def _single(compound: str, dose: str, *, route: str = "oral", infusion: str | None = None) -> dict:
    phase = {"dose": dose}
    if infusion:
        phase["infusion"] = infusion
    return {"compound": compound, "regimen": {"route": route, "phases": [phase]}}


def carhart2021() -> TrialDesign:
    psilocybin = lambda dose: {"compound": "psilocybin",  # noqa: E731
                               "regimen": {"phases": [{"dose": dose, "every": "3 weeks", "count": 2}]}}
    return design_from_dict({
        "name": "carhart2021", "reference": CARHART,
        "description": "Psilocybin 2 × 25 mg (3 weeks apart) + daily placebo vs 2 × 1 mg psilocybin + "
                       "escitalopram 10 mg/day for 3 weeks then 20 mg/day for 3 weeks; 6 weeks; QIDS-SR-16.",
        "scale": "QIDS-SR-16", "visits": [0, 1, 7, 14, 21, 28, 35, 42], "primary_day": 42,
        "baseline": {"scale": "QIDS-SR-16", "mean": 15.45, "sd": 3.5, "minimum": 11},
        "arms": [
            {"name": "psilocybin", "description": "2 × 25 mg psilocybin + daily placebo",
             "treatments": [psilocybin("25 mg"),
                            {"compound": "placebo", "regimen": {"phases": [
                                {"dose": "1 mg", "every": "1 day", "duration": "6 weeks"}]}}]},
            {"name": "escitalopram", "description": "2 × 1 mg psilocybin + escitalopram 10→20 mg/day",
             "treatments": [psilocybin("1 mg"),
                            {"compound": "escitalopram", "regimen": {"phases": [
                                {"dose": "10 mg", "every": "1 day", "duration": "3 weeks"},
                                {"dose": "20 mg", "every": "1 day", "duration": "3 weeks"}]}}]},
        ],
        "patients": 59, "seed": 2021,
        "published": {
            "n": {"psilocybin": 30, "escitalopram": 29},
            "baseline_mean": {"psilocybin": 14.5, "escitalopram": 16.4},
            "change_primary": {"psilocybin": -8.0, "escitalopram": -6.0},
            "change_primary_se": {"psilocybin": 1.0, "escitalopram": 1.0},
            "difference_primary": {"estimate": -2.0, "ci": [-5.0, 0.9], "p": 0.17},
            "response_rate": {"psilocybin": 0.70, "escitalopram": 0.48},
            "notes": "baseline SD 3.5 and the QIDS ≥ 11 ('moderate', Rush 2003 bands) floor are assumed; "
                     "the trial enrolled HAM-D-17 ≥ 17.",
        },
    })


DAWS = "Daws et al. 2022 Nat Med 28:844"


def daws2022() -> TrialDesign:
    base = carhart2021().model_dump(mode="json")
    base.update({
        "name": "daws2022", "reference": f"{DAWS} (RCT imaging subset of {CARHART})",
        "description": "Imaging subset of Carhart-Harris 2021: psilocybin 2 × 25 mg vs escitalopram 10→20 mg "
                       "(+ 2 × 1 mg psilocybin); resting fMRI at baseline and day 42 (3 weeks after the second "
                       "dose); BDI; modularity, DMN FC and flexibility from the rewired network.",
        "scale": "BDI-II", "primary_day": 42,
        "baseline": {"scale": "BDI-II", "mean": 27.0, "sd": 8.0, "minimum": 14},
        "patients": 43, "seed": 2022,
        "imaging": {"visits": [0, 42], "fraction": 1.0, "flexibility": True, "dataset": "aal2"},
        "published": {
            "n_imaged": {"psilocybin": 22, "escitalopram": 21},
            "modularity": "decreased 3 weeks after psilocybin; unchanged after 6 weeks of escitalopram (NW3)",
            "correlation": "larger modularity decrease ↔ larger BDI improvement: negative "
                           "modularity_change_vs_improvement in psilosim's convention",
            "notes": "BDI-II baseline 27 ± 8 (≥ 14) assumed, not read in the primary text.",
        },
    })
    return design_from_dict(base)


def daws2022_trd() -> TrialDesign:
    return design_from_dict({
        "name": "daws2022_trd", "reference": f"{DAWS} (open-label trial); Carhart-Harris et al. 2017 Sci Rep 7:13187",
        "description": "Open-label psilocybin 10 mg then 25 mg 7 days apart with psychological support, "
                       "treatment-resistant depression; resting fMRI at baseline and 1 day after 25 mg; BDI to 6 months.",
        "scale": "BDI-II", "visits": [0, 8, 35, 182], "primary_day": 182,
        "baseline": {"scale": "BDI-II", "mean": 34.0, "sd": 7.0, "minimum": 20},
        "arms": [{"name": "psilocybin", "description": "10 mg, then 25 mg 7 days later",
                  "treatments": [_single("psilocybin", "10 mg"),
                                 {**_single("psilocybin", "25 mg"), "start_day": 7}]}],
        "patients": 16, "seed": 2017,
        "imaging": {"visits": [0, 8], "fraction": 1.0, "flexibility": True, "dataset": "aal2"},
        "published": {
            "n_imaged": 16,
            "modularity": "decreased 1 day after 25 mg (NW3)",
            "dmn": "within-DMN FC increased 1 day after (NW4, Carhart-Harris 2017)",
            "correlation": "modularity decrease ↔ BDI improvement at 6 months",
            "notes": "BDI baseline 34 ± 7 (≥ 20) assumed (TRD, severe), not read in the primary text.",
        },
    })


def goodwin2022() -> TrialDesign:
    arms = [{"name": f"{dose}mg", "description": f"single {dose} mg psilocybin + psychological support",
             "treatments": [_single("psilocybin", f"{dose} mg")]} for dose in (25, 10, 1)]
    return design_from_dict({
        "name": "goodwin2022", "reference": GOODWIN,
        "description": "Single 25 / 10 / 1 mg psilocybin with psychological support, treatment-resistant "
                       "depression; MADRS to week 12 (primary: week 3).",
        "scale": "MADRS", "visits": [0, 2, 7, 21, 42, 63, 84], "primary_day": 21,
        "baseline": {"scale": "MADRS", "mean": 32.5, "sd": 5.5, "minimum": 18, "criterion_scale": "HRSD-17"},
        "arms": arms, "comparison": ["25mg", "1mg"], "patients": 233, "seed": 2022,
        "published": {
            "n": {"25mg": 79, "10mg": 75, "1mg": 79},
            "change_primary": {"25mg": -12.0, "10mg": -7.9, "1mg": -5.4},
            "difference_primary": {"estimate": -6.6, "ci": [-10.2, -2.9], "p": 0.001},
            "notes": "inclusion HAM-D-17 ≥ 18 (from memory, unverified) converted to MADRS; SD assumed.",
        },
    })


def raison2023() -> TrialDesign:
    return design_from_dict({
        "name": "raison2023", "reference": RAISON,
        "description": "Single 25 mg psilocybin vs 100 mg niacin (active placebo), psychological support; "
                       "MADRS to day 43.",
        "scale": "MADRS", "visits": [0, 2, 8, 15, 29, 43], "primary_day": 43,
        "baseline": {"scale": "MADRS", "mean": 35.0, "sd": 5.0, "minimum": 28},
        "arms": [
            {"name": "psilocybin", "treatments": [_single("psilocybin", "25 mg")]},
            {"name": "niacin", "treatments": [_single("niacin", "100 mg")]},
        ],
        "patients": 104, "seed": 2023,
        "published": {
            "n": {"psilocybin": 51, "niacin": 53},
            "change_by_day": {"psilocybin": {"2": -2.7, "8": -17.8, "15": -18.0, "29": -19.2, "43": -19.1},
                              "niacin": {"2": -2.7, "8": -5.8, "15": -6.9, "29": -5.5, "43": -6.8}},
            "change_by_day_ci": {"psilocybin": {"2": [-4.1, -1.3], "8": [-21.1, -14.6], "15": [-21.3, -14.7],
                                                "29": [-22.6, -15.8], "43": [-22.7, -15.5]},
                                 "niacin": {"2": [-4.1, -1.3], "8": [-9.1, -2.6], "15": [-10.3, -3.5],
                                            "29": [-9.0, -2.0], "43": [-10.5, -3.1]}},
            "difference_primary": {"estimate": -12.3, "ci": [-17.5, -7.2], "p": 0.001},
            "difference_by_day": {"2": {"estimate": -0.1, "ci": [-2.1, 1.9], "p": 0.95},
                                  "8": {"estimate": -12.0, "ci": [-16.6, -7.4], "p": 0.001},
                                  "15": {"estimate": -11.1, "ci": [-15.8, -6.3], "p": 0.001},
                                  "29": {"estimate": -13.7, "ci": [-18.6, -8.8], "p": 0.001}},
            "source_table": "Table 2 (MMRM means and 95 % CIs; PMC10472268)",
            "notes": "baseline mean 35, SD 5 and MADRS ≥ 28 inclusion are assumed (not read in the primary text).",
        },
    })


def szigeti2021() -> TrialDesign:
    return design_from_dict({
        "name": "szigeti2021", "reference": SZIGETI,
        "description": "Self-blinded microdosing (≈ 10 % of a full dose every third day) vs placebo for 4 weeks; "
                       "no therapy, no clinical setting; not selected for depression.",
        "scale": "QIDS-SR-16", "visits": [0, 14, 28], "primary_day": 28,
        "baseline": {"scale": "QIDS-SR-16", "mean": 7.0, "sd": 4.0, "minimum": 0},
        "arms": [
            {"name": "microdose", "therapy": False, "environment": "none",
             "treatments": [{"compound": "psilocybin",
                             "regimen": {"phases": [{"dose": "2 mg", "every": "3 days", "duration": "4 weeks"}]}}]},
            {"name": "placebo", "therapy": False, "environment": "none",
             "treatments": [{"compound": "placebo",
                             "regimen": {"phases": [{"dose": "1 mg", "every": "3 days", "duration": "4 weeks"}]}}]},
        ],
        "exclude_psychosis_bipolar": False, "patients": 191, "seed": 2121,
        "published": {"n_total": 191, "difference_primary": "no significant difference (CL3)",
                      "notes": "dose 2 mg psilocybin (≈ 10 % of a 20–25 mg dose), baseline QIDS 7 ± 4 assumed."},
    })


def ketamine_iv() -> TrialDesign:
    return design_from_dict({
        "name": "ketamine_iv", "reference": KETAMINE,
        "description": "Single IV ketamine 0.5 mg/kg over 40 min vs saline; MADRS at days 1, 3, 7, 14.",
        "scale": "MADRS", "visits": [0, 1, 3, 7, 14], "primary_day": 1,
        "baseline": {"scale": "MADRS", "mean": 32.0, "sd": 5.0, "minimum": 20},
        "arms": [
            {"name": "ketamine", "therapy": False, "environment": "none",
             "treatments": [_single("ketamine", "0.5 mg/kg", route="iv", infusion="40 min")]},
            {"name": "saline", "therapy": False, "environment": "none",
             "treatments": [_single("placebo", "1 mg", route="iv", infusion="40 min")]},
        ],
        "patients": 200, "seed": 2016,
        "published": {"response_24h": {"ketamine": 0.522},
                      "notes": "pooled response 52 % at 24 h, 40 % at day 7 (Han 2016, 2°); superiority lost by "
                               "days 10–12 (Kishimoto 2016). Baseline assumed."},
    })


PRESETS: dict[str, Callable[[], TrialDesign]] = {
    "carhart2021": carhart2021, "goodwin2022": goodwin2022, "raison2023": raison2023,
    "szigeti2021": szigeti2021, "ketamine_iv": ketamine_iv, "daws2022": daws2022, "daws2022_trd": daws2022_trd,
}


def get_preset(name: str) -> TrialDesign:
    """The built-in design called ``name``."""
    key = name.strip().lower()
    if key not in PRESETS:
        raise InputError("preset", f"unknown trial preset {name!r}; built in: {sorted(PRESETS)} "
                                   "(or give a scenario .yaml file)")
    return PRESETS[key]()
