"""Entities: ExpressionSets and their points, transforms, and the datatypes they use."""
