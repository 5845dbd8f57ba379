import { collection, createService, InMemoryRepository, type ServiceOptions } from "../../kit/src";
import { newUserSchema, seedUsers, userSchema, type NewUser, type User } from "./users";

/** The users service: `GET /users`, `GET /users/:id`, `POST /users`, `GET /health`. */
export function buildApp(options: Partial<ServiceOptions> = {}) {
    const app = createService({ name: "users", ...options });
    const repository = new InMemoryRepository<User, NewUser>(seedUsers, (id, input) => ({
        id,
        ...input,
        createdAt: new Date().toISOString(),
    }));
    collection(app, { path: "/users", noun: "user", repository, itemSchema: userSchema, createSchema: newUserSchema });
    return app;
}
