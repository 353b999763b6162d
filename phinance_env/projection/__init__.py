"""Projections: one predictive distribution per (ticker, session, horizon) and its packet."""

from phinance_env.projection.engine import DEFAULT_HORIZONS, ProjectionEngine, parse_horizon
from phinance_env.projection.model import FittedModel, Predictive, ScaleName, fit
from phinance_env.projection.packet import ProjectionPacket

__all__ = [
    "DEFAULT_HORIZONS",
    "FittedModel",
    "Predictive",
    "ProjectionEngine",
    "ProjectionPacket",
    "ScaleName",
    "fit",
    "parse_horizon",
]
