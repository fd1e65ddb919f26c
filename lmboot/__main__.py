"""``python -m lmboot ...`` (also what ``torchrun -m lmboot`` runs)."""
from lmboot.cli import main

main()
