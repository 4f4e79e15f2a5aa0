"""A model whose requirements cannot be met: importing it fails with pip's message."""
print("never runs")
