"""One seed check for every link: the public seed and each entry of a network member's seed."""

from __future__ import annotations

import numpy as np
import pytest

from psilosim._seeds import checked_seed, checked_seed_entry
from psilosim.errors import InputError
from psilosim.network._rng import member_sequence, seed_streams

NUMPY_INTEGERS = [np.int64(7), np.int32(7), np.uint8(7), np.uint64(7)]
NOT_A_SEED = [-1, np.int64(-3), 1.5, 2.0, np.float64(2.0), True, False, np.bool_(True), "3"]


@pytest.mark.parametrize("seed", [7, *NUMPY_INTEGERS])
def test_numpy_integers_are_seeds(seed):
    assert checked_seed(seed) == 7 and type(checked_seed(seed)) is int
    assert checked_seed_entry(seed) == 7
    # a member entry of a network batch: the stream is the plain integer seed's stream
    assert member_sequence(seed).entropy == np.random.SeedSequence(7).entropy
    assert member_sequence((seed, seed)).spawn_key == (7,)


def test_no_seed_means_no_seed_only_where_a_seed_may_be_omitted():
    assert checked_seed(None) is None
    with pytest.raises(InputError) as info:
        checked_seed_entry(None, field="seed[2]")
    assert info.value.field == "seed[2]"


@pytest.mark.parametrize("seed", NOT_A_SEED)
def test_a_negative_fractional_or_boolean_seed_is_refused_naming_the_field(seed):
    for check in (checked_seed, checked_seed_entry):
        with pytest.raises(InputError) as info:
            check(seed, field="--seed")
        assert info.value.field == "--seed" and repr(seed) in info.value.problem


@pytest.mark.parametrize("seed", NOT_A_SEED)
def test_network_member_seeds_and_spawn_keys_are_checked_the_same_way(seed):
    # Before: a member entry went through int(), so 1.5 ran as seed 1 and True as seed 1.
    for entry in (seed, (3, seed), (seed, 0)):
        with pytest.raises(InputError) as info:
            member_sequence(entry)
        assert info.value.field == "seed"
    with pytest.raises(InputError) as info:
        seed_streams([0, seed], 2)
    assert info.value.field == "seed"


def test_an_empty_seed_tuple_is_an_input_error():
    with pytest.raises(InputError) as info:
        member_sequence(())
    assert info.value.field == "seed"


def test_an_array_of_numpy_integer_seeds_runs_as_the_same_plain_integers():
    as_array = seed_streams(np.array([4, 9], dtype=np.int64), 2)
    np.testing.assert_array_equal(as_array, seed_streams([4, 9], 2))


def test_the_old_import_location_is_the_same_function():
    from psilosim.pharmacokinetics.subject import checked_seed as from_subject

    assert from_subject is checked_seed
