"""Test data builders: real photos from scikit-image and images with known defects."""
