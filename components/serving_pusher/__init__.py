"""A Pusher executor that publishes each blessed model once, as a whole folder or not at all."""
