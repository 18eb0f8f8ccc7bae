"""The core search path: latent grid -> generator -> network + probe -> target -> objective -> optimizer -> search -> history."""
