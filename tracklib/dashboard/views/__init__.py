"""One module per page; each ``render(ctx)`` goes widgets -> data -> query -> chart."""
