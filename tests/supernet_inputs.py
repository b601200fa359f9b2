"""Raw-input front ends shared by the supernet tests (imported by the test modules)."""
import keras
from keras import layers


def pixel_inputs():
    """8x8 uint8 images, the digits' shape, rescaled to [0, 1] with one channel."""
    inputs = keras.Input((8, 8), dtype="uint8", name="pixels")
    x = layers.Reshape((8, 8, 1), name="add_channel")(inputs)
    return inputs, layers.Rescaling(1 / 255, name="scale")(x)
