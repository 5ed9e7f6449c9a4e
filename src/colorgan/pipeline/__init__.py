"""A colorization request and its one owner: `Request` (a photo or film, the colour intensity,
colour hints; checked once, when made), `Colorizer` (photos through an engine, composed at
full resolution), the file loop (batch) and the film core (film, film_in, film_out, stages).
Every front end (the CLI, the page, the Python API) and evaluation colorize through here. No
torch at module level."""
