"""The strategy helper on keras-tuner's own RandomSearchOracle (through make_oracle)."""
import functools

from autonas.oracles import make_oracle
from autonas.testing import strategy as st

FACTORY = functools.partial(make_oracle, "random")


def test_reproducible(tmp_path):
    st.assert_reproducible(FACTORY, st.mixed_problem(), 20, directory=tmp_path)


def test_finds_optimum_of_the_tiny_space(tmp_path):
    # 18 configurations and no repeats: the optimum comes within the space's size, unless
    # keras-tuner stops early after 20 collisions in a row (it stops after 15-17 trials here).
    st.assert_finds_optimum(FACTORY, st.tiny_problem(), within=18, directory=tmp_path, seeds=(0, 1, 2))


def test_resume_identical(tmp_path):
    st.assert_resume_identical(FACTORY, st.mixed_problem(), 20, stop_at=9, directory=tmp_path)
