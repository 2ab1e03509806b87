"""ExampleGen for folders of images: one sub-folder per class, optionally under train/ and eval/."""
