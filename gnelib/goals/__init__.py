"""Goals: targets on catalog metrics (parameters/goals/*.yaml), their validation, and progress towards them."""

from gnelib.goals.progress import GoalProgress, evaluate, market_gaps, validate_against_data
from gnelib.goals.spec import GLOBAL, Goal, GoalError, goals_folder, load_goals

__all__ = [
    "GLOBAL",
    "Goal",
    "GoalError",
    "GoalProgress",
    "evaluate",
    "goals_folder",
    "load_goals",
    "market_gaps",
    "validate_against_data",
]
