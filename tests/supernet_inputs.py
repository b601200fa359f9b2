"""Raw-input front ends shared by the supernet tests (imported by the test modules)."""
import keras
from keras import layers


def pixel_inputs(side=8):
    """`side`x`side` uint8 images (8: the digits' shape), rescaled to [0, 1] with one channel."""
    inputs = keras.Input((side, side), dtype="uint8", name="pixels")
    x = layers.Reshape((side, side, 1), name="add_channel")(inputs)
    return inputs, layers.Rescaling(1 / 255, name="scale")(x)


def pixel_inputs_20():
    """20x20 images: wide enough for the stem to downsample them before the cells."""
    return pixel_inputs(20)
