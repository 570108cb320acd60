"""Image modes. Each is a plugin registering Mode objects through vitrina_register_modes."""
