import numpy as np

from hpt_magic.samplers._design import halton_point


def points(n, dim, seed):
    return np.array([halton_point(i, dim, seed) for i in range(n)])


def test_every_prefix_is_stratified_in_each_coordinate():
    P = points(42, 4, 7)  # bases 2, 3, 5, 7
    assert ((P >= 0) & (P < 1)).all()
    for j, base in enumerate((2, 3, 5, 7)):
        # The first base * k points: each 1/base of the coordinate's range holds k of them.
        for k in range(1, 42 // base + 1):
            cells = np.floor(P[: base * k, j] * base).astype(int)
            assert np.bincount(cells, minlength=base).tolist() == [k] * base, (base, k)


def test_the_seed_chooses_the_scrambling_and_repeats_it():
    assert np.array_equal(points(8, 3, [1, 3]), points(8, 3, [1, 3]))
    assert not np.allclose(points(8, 3, [1, 3]), points(8, 3, [2, 3]))


def test_high_dimensions_do_not_line_up():
    # Unscrambled, bases 29 and 31 (dimensions 10 and 11) give nearly equal coordinates for
    # the first points; scrambled, their correlation is that of random points.
    P = points(20, 11, 0)
    assert abs(np.corrcoef(P[:, 9], P[:, 10])[0, 1]) < 0.8
    assert len({tuple(p) for p in P.round(6)}) == 20
