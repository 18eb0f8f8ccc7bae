"""The generator wrapper checks shapes, values and ranges."""
import numpy as np
import pytest
import torch

from mango_widgets import Generator, LatentGrid, ModelOutputError
from tests.tiny_models import ConstantImageGenerator

GRID = LatentGrid(d=4, n=8)


def test_indices_become_images_in_unit_range():
    generator = Generator(ConstantImageGenerator(), GRID, image_shape=(1, 2, 2))
    images = generator(np.array([[0] * 4, [7] * 4]))
    assert images.shape == (2, 1, 2, 2)
    assert torch.all(images[0] == 0) and torch.allclose(images[1].flatten(), torch.tensor([0.2, 0.5, 0.7, 1.0]))


def test_output_range_is_rescaled():
    generator = Generator(lambda z: torch.tanh(z[:, :4].reshape(-1, 1, 2, 2)), GRID, output_range=(-1, 1))
    images = generator(np.zeros((3, 4), dtype=int))
    assert images.min() >= 0 and images.max() <= 1


def test_out_of_range_pixels_name_the_fix():
    generator = Generator(lambda z: z[:, :4].reshape(-1, 1, 2, 2), GRID)  # latents in [-4, 4]
    with pytest.raises(ModelOutputError, match="output_range"):
        generator(np.zeros((1, 4), dtype=int))


def test_wrong_image_shape_and_nan_are_errors():
    generator = Generator(ConstantImageGenerator(), GRID, image_shape=(1, 28, 28))
    with pytest.raises(ModelOutputError, match=r"shape \(1, 2, 2\), expected \(1, 28, 28\)"):
        generator(np.zeros((1, 4), dtype=int))
    nan_generator = Generator(lambda z: torch.full((z.shape[0], 1, 2, 2), float("nan")), GRID)
    with pytest.raises(ModelOutputError, match="NaN"):
        nan_generator(np.zeros((1, 4), dtype=int))


def test_discrete_generators_receive_indices():
    seen = {}

    def codebook_decoder(indices):
        seen["dtype"] = indices.dtype
        return (indices.float().mean(1) / 7).reshape(-1, 1, 1, 1).expand(-1, 1, 2, 2)

    generator = Generator(codebook_decoder, GRID, takes_indices=True)
    images = generator(np.full((2, 4), 7))
    assert seen["dtype"] == torch.int64 and torch.all(images == 1)
