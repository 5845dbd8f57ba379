import { collection, createService, TableRepository, type Database, type ServiceOptions } from "@berth/kit";
import { newUserSchema, userSchema, usersTable, type NewUser, type User } from "./users";

/** The users service: `GET /users`, `GET /users/:id`, `POST /users`, `DELETE /users/:id`, `GET /health`. */
export function buildApp(options: Partial<ServiceOptions> & { database: Database }) {
    const app = createService({ name: "users", ...options });
    const repository = new TableRepository<User, NewUser>(options.database, usersTable);
    collection(app, { path: "/users", noun: "user", repository, itemSchema: userSchema, createSchema: newUserSchema });
    return app;
}
